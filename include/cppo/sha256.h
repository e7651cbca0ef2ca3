/* cppo-notify — SHA-256 (FIPS 180-4), for the last-resort event key: a
 * message with no request id, EventBridge id or SNS MessageId is keyed by
 * the hash of its canonical body. Not for anything secret. */
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

#endif
