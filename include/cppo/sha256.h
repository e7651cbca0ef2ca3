/* cppo-notify — SHA-256 (FIPS 180-4), for the last-resort event key: a
 * message with no request id, EventBridge id or SNS MessageId is keyed by
 * the hash of its canonical body; and HMAC-SHA256 (RFC 2104), for signing
 * webhook deliveries (Standard Webhooks). The HMAC wipes its key material
 * from its state when it finishes; the plain hash is not meant for
 * secrets. */
#ifndef CPPO_SHA256_H
#define CPPO_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
        uint32_t h[8];
        uint64_t bytes;
        uint8_t block[64];
        size_t fill;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
void sha256_final(struct sha256 *s, uint8_t digest[32]);

/* One call: writes 64 lowercase hex digits and a NUL into hex. */
void sha256_hex(const void *data, size_t len, char hex[65]);

struct hmac_sha256 {
        struct sha256 inner, outer;
};

/* Any key length (longer than 64 bytes: hashed first, per RFC 2104). */
void hmac_sha256_init(struct hmac_sha256 *h, const void *key, size_t keylen);
void hmac_sha256_update(struct hmac_sha256 *h, const void *data, size_t len);
/* Writes the 32-byte MAC and wipes h. */
void hmac_sha256_final(struct hmac_sha256 *h, uint8_t mac[32]);
/* One call. */
void hmac_sha256(const void *key, size_t keylen, const void *data, size_t len, uint8_t mac[32]);

#endif
