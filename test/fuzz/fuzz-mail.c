/* Fuzz target: build an e-mail from arbitrary event data and check that no
 * byte of it can change the message's structure.
 *
 * The input is split at NUL bytes into subject, display name, opportunity
 * id, notification key, text and html (missing fields are empty; an html
 * field of exactly "-" means no html part). abort() when:
 *   - mail_build fails (the addresses are fixed and valid, the input small);
 *   - a CR or LF stands alone, a line passes 998 octets, or the message
 *     does not end with CRLF;
 *   - a header name is outside the allowed set or appears twice, a header
 *     line passes 78 columns, or a continuation line is only whitespace;
 *   - the MIME boundary occurs anywhere but its 3 delimiter lines;
 *   - the Subject, decoded (RFC 2047), differs from the input subject when
 *     that is valid UTF-8 without control characters.
 */
#include "cppo/buf.h"
#include "cppo/error.h"
#include "cppo/mail.h"
#include "../unit/mail-headers.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NFIELDS 6

#define NALLOWED MAIL_HEADER_COUNT
static const char *const *const allowed = mail_header_names;

static void check(bool ok)
{
        if (!ok)
                abort();
}

static void check_lines(const char *m, size_t n)
{
        size_t start = 0;

        check(n >= 2 && m[n - 2] == '\r' && m[n - 1] == '\n');
        for (size_t i = 0; i < n; i++) {
                if (m[i] == '\r')
                        check(i + 1 < n && m[i + 1] == '\n');
                if (m[i] == '\n') {
                        check(i > 0 && m[i - 1] == '\r' && i - 1 - start <= 998);
                        start = i + 1;
                }
        }
}

static size_t header_index(const char *line, size_t n)
{
        const char *colon = memchr(line, ':', n);

        check(colon != NULL);
        for (size_t k = 0; k < NALLOWED; k++) {
                if (strlen(allowed[k]) == (size_t)(colon - line) &&
                    memcmp(allowed[k], line, (size_t)(colon - line)) == 0)
                        return k;
        }
        abort();
}

/* Checks the header block; returns its end and the Subject's unfolded value
 * in subject. */
static const char *check_headers(const char *m, struct buf *subject)
{
        const char *end = strstr(m, "\r\n\r\n"), *line = m;
        bool seen[NALLOWED] = { false }, in_subject = false;

        check(end != NULL);
        while (line < end + 2) {
                const char *eol = strstr(line, "\r\n");
                size_t n = (size_t)(eol - line);

                check(n <= 78);
                if (line[0] == ' ' || line[0] == '\t') {
                        check(line != m && strspn(line, " \t") < n);
                        if (in_subject)
                                check(buf_append(subject, line, n) == 0);
                } else {
                        size_t k = header_index(line, n);

                        check(!seen[k]);
                        seen[k] = true;
                        in_subject = strcmp(allowed[k], "Subject") == 0;
                        if (in_subject)
                                check(buf_append(subject, line + 9, n - 9) == 0);
                }
                line = eol + 2;
        }
        return end + 4;
}

static void check_boundary(const char *m, size_t n, const char *body)
{
        static const char ct[] = "\r\nContent-Type: multipart/alternative;\r\n boundary=\"";
        /* Only the header block can declare the boundary: a text body may
         * well contain these very bytes (it has CRLFs of its own), so the
         * search stops where the body starts. */
        const char *b = memmem(m, (size_t)(body - m), ct, sizeof ct - 1), *e;
        size_t hits = 0;

        if (b == NULL)
                return;
        b += strlen(ct);
        e = strchr(b, '"');
        check(e != NULL && e > b && e < body);
        for (const char *q = body; (q = memmem(q, n - (size_t)(q - m), b, (size_t)(e - b))); q++) {
                check(q >= body + 2 && q[-1] == '-' && q[-2] == '-');
                check(q == body + 2 || (q[-3] == '\n' && q[-4] == '\r'));
                hits++;
        }
        check(hits == 3);
}

static int hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static int b64val(char c)
{
        static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const char *p = c ? strchr(t, c) : NULL;

        return p ? (int)(p - t) : -1;
}

/* Decodes the payload of one encoded-word into out. */
static void decode_payload(char enc, const char *s, size_t n, struct buf *out)
{
        uint32_t acc = 0;
        int bits = 0;

        for (size_t i = 0; i < n; i++) {
                if (enc == 'Q' && s[i] == '=') {
                        check(i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0);
                        check(buf_putc(out, (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]))) == 0);
                        i += 2;
                } else if (enc == 'Q') {
                        check(s[i] > ' ' && s[i] < 127 && s[i] != '?');
                        check(buf_putc(out, s[i] == '_' ? ' ' : s[i]) == 0);
                } else if (s[i] != '=') {
                        check(b64val(s[i]) >= 0);
                        acc = acc << 6 | (uint32_t)b64val(s[i]);
                        bits += 6;
                        if (bits >= 8) {
                                bits -= 8;
                                check(buf_putc(out, (char)(acc >> bits & 0xff)) == 0);
                        }
                }
        }
}

/* RFC 2047: a value is plain text or encoded-words separated by spaces. */
static void decode_subject(const char *v, struct buf *out)
{
        size_t n = strlen(v);

        if (strncmp(v, "=?UTF-8?", 8) != 0) {
                check(buf_append(out, v, n) == 0);
                return;
        }
        while (*v) {
                const char *end = strstr(v + 10, "?=");

                check(strncmp(v, "=?UTF-8?", 8) == 0 && (v[8] == 'Q' || v[8] == 'B'));
                check(v[9] == '?' && end != NULL && (size_t)(end + 2 - v) <= 75);
                decode_payload(v[8], v + 10, (size_t)(end - v - 10), out);
                v = end + 2;
                v += strspn(v, " ");
        }
}

/* Sequence length and payload bits of a UTF-8 lead byte; 0 when invalid. */
static size_t utf8_lead(unsigned char c, uint32_t *cp)
{
        if (c < 0x80)
                return *cp = c, 1;
        if (c >= 0xc2 && c <= 0xdf)
                return *cp = c & 0x1fu, 2;
        if ((c & 0xf0) == 0xe0)
                return *cp = c & 0x0fu, 3;
        if (c >= 0xf0 && c <= 0xf4)
                return *cp = c & 0x07u, 4;
        return 0;
}

/* Valid UTF-8 without C0, DEL or C1 controls: what comes back unchanged. */
static bool clean_utf8(const unsigned char *s)
{
        while (*s) {
                uint32_t cp = 0;
                size_t len = utf8_lead(*s, &cp);

                if (len == 0)
                        return false;
                for (size_t i = 1; i < len; i++) {
                        if ((s[i] & 0xc0) != 0x80)
                                return false;
                        cp = cp << 6 | (s[i] & 0x3fu);
                }
                if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || (len == 3 && cp < 0x800) ||
                    (cp >= 0xd800 && cp <= 0xdfff) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
                        return false;
                s += len;
        }
        return true;
}

static void check_message(const char *m, size_t n, const char *subject)
{
        struct buf raw = BUF_INIT(1 << 20), dec = BUF_INIT(1 << 20);
        const char *body;

        check(strlen(m) == n);
        check_lines(m, n);
        body = check_headers(m, &raw);
        check_boundary(m, n, body);
        decode_subject(buf_cstr(&raw), &dec);
        if (clean_utf8((const unsigned char *)subject))
                check(strcmp(buf_cstr(&dec), subject) == 0);
        buf_deinit(&raw);
        buf_deinit(&dec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char *const to[] = { "ops@example.com", "sales@example.org" };
        static const char *const cc[] = { "audit@example.net" };
        const char *f[NFIELDS] = { "", "", "", "", "", "" };
        struct buf out = BUF_INIT(MAIL_MAX_BYTES);
        char err[CPPO_ERRLEN];
        char *copy = malloc(size + 1);
        size_t nf = 0;

        if (copy == NULL)
                return 0;
        memcpy(copy, data, size);
        copy[size] = '\0';
        for (size_t i = 0; nf < NFIELDS && i <= size; i += strlen(copy + i) + 1)
                f[nf++] = copy + i;
        {
                struct mail_message m = {
                        .from = "cppo-notify@example.com",
                        .from_name = f[1],
                        .to = to,
                        .n_to = 2,
                        .cc = cc,
                        .n_cc = 1,
                        .subject = f[0],
                        .text = f[4],
                        .html = strcmp(f[5], "-") == 0 ? NULL : f[5],
                        .message_id = "0f6b2d0c-7d7e-5a55-9d3c-1d2b3c4d5e6f@example.com",
                        .thread_id = "a1b2c3d4-0000-5000-8000-000000000001@example.com",
                        .opportunity_id = f[2],
                        .notification_key = f[3],
                        .date = 1795615200,
                };

                check(mail_build(&m, &out, err, sizeof err) == 0);
                check_message(buf_cstr(&out), out.len, m.subject);
        }
        buf_deinit(&out);
        free(copy);
        return 0;
}
