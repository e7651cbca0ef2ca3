/* cppo-notify — building RFC 5322 / MIME e-mail messages.
 *
 * Pure: no I/O. The message is CRLF-terminated and ready for SMTP DATA
 * (libcurl does the dot-stuffing). Structure: multipart/alternative with a
 * text/plain part first and a text/html part second, both UTF-8; a part is
 * 7bit when it is ASCII without control characters (TAB aside) and no line
 * passes 998 octets, else quoted-printable (lines within 76 columns). A line
 * starting with "." is left alone: libcurl dot-stuffs SMTP DATA. Line ends
 * in the bodies (CRLF, LF or a lone CR) all become CRLF; every line of the
 * message ends with CRLF, the last one included, and stays within 998
 * octets (78 where we fold headers). Without html the message is a single
 * text/plain part.
 *
 * Header safety: every header value that can carry event data (Subject,
 * display names, X-CPPO-Opportunity-Id) is sanitised: CR, LF and other
 * control characters become spaces, non-ASCII is RFC 2047 encoded (UTF-8,
 * "B" or "Q") and folded, so no byte of event data can add a header or
 * break the MIME structure. Addresses must pass mail_address_valid().
 * The MIME boundary is derived from the Message-ID and checked not to occur
 * in any part (if it does, it is derived again from the Message-ID and the
 * parts' bytes).
 *
 * Header order: Date (UTC), From, To, Cc (only when there is one), Subject,
 * Message-ID, In-Reply-To and References (when thread_id is set and differs
 * from message_id), Auto-Submitted, X-CPPO-Opportunity-Id and
 * X-CPPO-Notification-Key (when set and not empty), MIME-Version,
 * Content-Type (and Content-Transfer-Encoding for a single part).
 */
#ifndef CPPO_MAIL_H
#define CPPO_MAIL_H

#include "cppo/error.h"

#include "cppo/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MAIL_MAX_BYTES (4 * 1024 * 1024)

struct mail_message {
        const char *from;      /* addr-spec, validated */
        const char *from_name; /* display name, may be NULL */
        const char *const *to; /* addr-specs */
        size_t n_to;
        const char *const *cc;
        size_t n_cc; /* Bcc never appears in the message */
        const char *subject;
        const char *text;
        const char *html;             /* may be NULL: then a single text/plain part */
        const char *message_id;       /* without <>, e.g. "uuid@example.com" */
        const char *thread_id;        /* In-Reply-To and References, without <>; may be NULL */
        const char *opportunity_id;   /* X-CPPO-Opportunity-Id; may be NULL */
        const char *notification_key; /* X-CPPO-Notification-Key; may be NULL */
        int64_t date;                 /* Unix seconds, rendered in UTC */
};

/* Appends the whole message to out, or nothing on failure. Required: from,
 * at least one to, subject, text, message_id (which, like thread_id, must
 * pass mail_address_valid()). 0, -EINVAL (invalid address, missing field,
 * date out of the years 1000..9999: err names the field, never the value),
 * -E2BIG (past MAIL_MAX_BYTES or out's cap), -ENOMEM. */
CPPO_MUST_CHECK int mail_build(const struct mail_message *m, struct buf *out, char *err,
                               size_t errlen);

/* A conservative addr-spec check (local@domain, printable ASCII, no
 * spaces, quotes, angle brackets, commas, CR or LF; at most 254 bytes). */
bool mail_address_valid(const char *addr);

/* The domain part of an address ("example.com"), or "localhost". */
const char *mail_address_domain(const char *addr);

/* A stable id "<uuid>@<domain>" (no brackets) derived from name (e.g. a
 * delivery key, or "thread/" + opportunity id) with a name-based UUID
 * (version 5, SHA-1, in the fixed namespace
 * 40bfd868-bc1b-4073-a011-211cd9d88209; lowercase), so the same name
 * always gives the same id. domain NULL means "localhost". out must hold
 * 38 + strlen(domain) bytes (UUID, '@', domain, NUL). 0, -E2BIG, or
 * -EINVAL (name or out NULL, domain not a host name). */
CPPO_MUST_CHECK int mail_stable_id(const char *name, const char *domain, char *out, size_t outlen);

/* Appends the value of a header that can carry event data. The caller has
 * written "Name: " (header_name_len + 2 columns) on the current line.
 * Control characters (C0, DEL, C1; so CR, LF and TAB) become spaces, bidi
 * controls (U+202A..U+202E, U+2066..U+2069) are dropped and bytes that are
 * not UTF-8 become U+FFFD. The result is printable ASCII:
 * as it is, folded before spaces at 78 columns, when it is printable ASCII
 * without "=?" and every word fits; otherwise RFC 2047 encoded-words
 * ("=?UTF-8?Q?...?=" when that is no longer than "B", else "B"), at most
 * 75 columns each, one per line, never splitting a character. Folds are
 * CRLF + space. 0, -EINVAL (NULL argument), -E2BIG, -ENOMEM. */
CPPO_MUST_CHECK int mail_encode_header(struct buf *out, const char *s, size_t header_name_len);

#endif
