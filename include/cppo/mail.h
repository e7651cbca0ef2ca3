/* cppo-notify — building RFC 5322 / MIME e-mail messages.
 *
 * Pure: no I/O. The message is CRLF-terminated and ready for SMTP DATA
 * (libcurl does the dot-stuffing). Structure: multipart/alternative with a
 * text/plain part first and a text/html part second, both UTF-8 and
 * quoted-printable when they hold non-ASCII, long lines or a leading dot;
 * every line within 998 octets (78 where we fold headers).
 *
 * Header safety: every header value that can carry event data (Subject,
 * display names, X-CPPO-Opportunity-Id) is sanitised: CR, LF and other
 * control characters become spaces, non-ASCII is RFC 2047 encoded (UTF-8,
 * "B" or "Q") and folded, so no byte of event data can add a header or
 * break the MIME structure. Addresses must pass mail_address_valid().
 * The MIME boundary is derived from the Message-ID and checked not to occur
 * in any part.
 */
#ifndef CPPO_MAIL_H
#define CPPO_MAIL_H

#include "cppo/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MAIL_MAX_BYTES (4 * 1024 * 1024)

struct mail_message {
        const char *from;       /* addr-spec, validated */
        const char *from_name;  /* display name, may be NULL */
        const char *const *to;  /* addr-specs */
        size_t n_to;
        const char *const *cc;
        size_t n_cc;            /* Bcc never appears in the message */
        const char *subject;
        const char *text;
        const char *html;       /* may be NULL: then a single text/plain part */
        const char *message_id; /* without <>, e.g. "uuid@example.com" */
        const char *thread_id;  /* In-Reply-To and References, without <>; may be NULL */
        const char *opportunity_id; /* X-CPPO-Opportunity-Id; may be NULL */
        const char *notification_key; /* X-CPPO-Notification-Key; may be NULL */
        int64_t date;           /* Unix seconds, rendered in UTC */
};

/* Appends the whole message to out. 0, -EINVAL (invalid address, missing
 * field: err says which), -E2BIG, -ENOMEM. */
int mail_build(const struct mail_message *m, struct buf *out, char *err, size_t errlen);

/* A conservative addr-spec check (local@domain, printable ASCII, no
 * spaces, quotes, angle brackets, commas, CR or LF; at most 254 bytes). */
bool mail_address_valid(const char *addr);

/* The domain part of an address ("example.com"), or "localhost". */
const char *mail_address_domain(const char *addr);

/* A stable id "<uuid>@<domain>" (no brackets) derived from name (e.g. a
 * delivery key, or "thread/" + opportunity id) with a name-based UUID, so
 * the same name always gives the same id. out must hold 37 + domain bytes.
 * 0 or -E2BIG. */
int mail_stable_id(const char *name, const char *domain, char *out, size_t outlen);

/* RFC 2047-encodes s for a header when it is not plain printable ASCII,
 * folding to fit; control characters become spaces. Appends to out. */
int mail_encode_header(struct buf *out, const char *s, size_t header_name_len);

#endif
