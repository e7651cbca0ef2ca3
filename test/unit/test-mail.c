/* Unit tests: e-mail messages — exact bytes, header encoding and injection,
 * quoted-printable, boundaries, addresses, stable ids. The test parses and
 * decodes what the builder wrote with its own small decoders (RFC 5322
 * unfolding, RFC 2047, RFC 2045 quoted-printable) and compares with the
 * input. */
#undef NDEBUG
#include "cppo/mail.h"
#include "mail-headers.h"

#include "cppo/buf.h"
#include "cppo/error.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define MAX_HDRS 32

static const char *const to2[] = { "ops@example.com", "sales-team@example.com" };
static const char *const cc1[] = { "audit@example.org" };

/* The message of the golden file; tests change a field or two. */
static struct mail_message base(void)
{
        struct mail_message m = {
                .from = "cppo-notify@example.com",
                .from_name = "CPPO Notify",
                .to = to2,
                .n_to = 2,
                .cc = cc1,
                .n_cc = 1,
                .subject = "New Order: Acme Corp accepted Widget Pro (offer-abc)",
                .text = "Hello,\n\nAcme Corp accepted offer offer-abc.\n",
                .html = "<p>Hello,</p>\n<p>Acme Corp accepted offer offer-abc.</p>\n",
                .message_id = "0f6b2d0c-7d7e-5a55-9d3c-1d2b3c4d5e6f@example.com",
                .thread_id = "a1b2c3d4-0000-5000-8000-000000000001@example.com",
                .opportunity_id = "ra-1",
                .notification_key = "new_order/agmt-123",
                .date = 1795615200, /* Wed, 25 Nov 2026 14:00:00 UTC */
        };
        return m;
}

/* ------------------------------------------------------------ parsing */

struct hdr {
        char name[64];
        struct buf value; /* unfolded */
};

struct parsed {
        struct hdr h[MAX_HDRS];
        size_t n;
        const char *body; /* after the blank line */
        size_t body_len;
        size_t longest_header_line;
};

static void parsed_free(struct parsed *p)
{
        for (size_t i = 0; i < p->n; i++)
                buf_deinit(&p->h[i].value);
}

/* Every line of msg ends with CRLF, no CR or LF stands alone and no line
 * passes 998 octets. */
static void check_lines(const char *msg, size_t len)
{
        size_t start = 0;

        assert_true(len >= 2);
        assert_memory_equal(msg + len - 2, "\r\n", 2);
        for (size_t i = 0; i < len; i++) {
                if (msg[i] == '\n') {
                        assert_true(i > 0 && msg[i - 1] == '\r');
                        assert_true(i - 1 - start <= 998);
                        start = i + 1;
                } else if (msg[i] == '\r') {
                        assert_true(i + 1 < len && msg[i + 1] == '\n');
                }
        }
}

/* Every header name is from the allowed set and appears once. */
static void check_names(const struct parsed *p)
{
        for (size_t i = 0; i < p->n; i++) {
                bool ok = false;

                for (size_t k = 0; k < MAIL_HEADER_COUNT; k++)
                        ok = ok || strcmp(p->h[i].name, mail_header_names[k]) == 0;
                if (!ok)
                        fail_msg("unexpected header '%s'", p->h[i].name);
                for (size_t k = 0; k < i; k++)
                        assert_string_not_equal(p->h[i].name, p->h[k].name);
        }
}

/* Parses the header block of msg: names, unfolded values, every name from
 * the allowed set and present once. */
static void parse(const char *msg, size_t len, struct parsed *p)
{
        const char *end = strstr(msg, "\r\n\r\n");
        const char *line = msg;

        check_lines(msg, len);
        memset(p, 0, sizeof *p);
        assert_non_null(end);
        p->body = end + 4;
        p->body_len = len - (size_t)(p->body - msg);
        while (line < end + 2) {
                const char *eol = strstr(line, "\r\n");
                size_t n = (size_t)(eol - line);

                if (n > p->longest_header_line)
                        p->longest_header_line = n;
                if (line[0] == ' ' || line[0] == '\t') {
                        assert_true(p->n > 0);
                        assert_true(strspn(line, " \t") < n); /* RFC 5322 3.2.2 */
                        assert_int_equal(buf_append(&p->h[p->n - 1].value, line, n), 0);
                } else {
                        const char *colon = memchr(line, ':', n);
                        struct hdr *h = &p->h[p->n++];

                        assert_true(p->n <= MAX_HDRS);
                        assert_non_null(colon);
                        assert_true((size_t)(colon - line) < sizeof h->name);
                        memcpy(h->name, line, (size_t)(colon - line));
                        buf_init(&h->value, 1 << 20);
                        n -= (size_t)(colon - line) + 1;
                        if (n > 0 && colon[1] == ' ')
                                colon++, n--;
                        assert_int_equal(buf_append(&h->value, colon + 1, n), 0);
                }
                line = eol + 2;
        }
        check_names(p);
}

static const char *get(const struct parsed *p, const char *name)
{
        for (size_t i = 0; i < p->n; i++) {
                if (strcmp(p->h[i].name, name) == 0)
                        return buf_cstr(&p->h[i].value);
        }
        return NULL;
}

/* ------------------------------------------------------------ decoders */

static int b64_value(char c)
{
        static const char tab[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const char *p = c ? strchr(tab, c) : NULL;

        return p ? (int)(p - tab) : -1;
}

static int hex_value(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1; /* lowercase is not what we write */
}

static void b64_decode(const char *s, size_t n, struct buf *out)
{
        uint32_t acc = 0;
        int bits = 0;

        assert_int_equal(n % 4, 0);
        for (size_t i = 0; i < n && s[i] != '='; i++) {
                int v = b64_value(s[i]);

                assert_true(v >= 0);
                acc = acc << 6 | (uint32_t)v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        assert_int_equal(buf_putc(out, (char)(acc >> bits & 0xff)), 0);
                }
        }
}

static void q_decode(const char *s, size_t n, struct buf *out)
{
        for (size_t i = 0; i < n; i++) {
                char c = s[i];

                assert_true(c > ' ' && c < 127 && c != '?');
                if (c == '_') {
                        c = ' ';
                } else if (c == '=') {
                        assert_true(i + 2 < n + 1 && hex_value(s[i + 1]) >= 0 &&
                                    hex_value(s[i + 2]) >= 0);
                        c = (char)(hex_value(s[i + 1]) << 4 | hex_value(s[i + 2]));
                        i += 2;
                }
                assert_int_equal(buf_putc(out, c), 0);
        }
}

/* Decodes one encoded-word at s (length n); false when s is not one. */
static bool decode_word(const char *s, size_t n, struct buf *out)
{
        if (n < 12 || strncmp(s, "=?UTF-8?", 8) != 0 || s[9] != '?' ||
            strncmp(s + n - 2, "?=", 2) != 0)
                return false;
        assert_true(n <= 75);
        if (s[8] == 'B')
                b64_decode(s + 10, n - 12, out);
        else if (s[8] == 'Q')
                q_decode(s + 10, n - 12, out);
        else
                fail_msg("unknown encoding '%c'", s[8]);
        return true;
}

/* RFC 2047 decoding of an unfolded value: whitespace between two
 * encoded-words is dropped, everything else is kept. */
static void decode_2047(const char *v, struct buf *out)
{
        struct buf ws = BUF_INIT(1 << 20);
        bool after_word = false;

        while (*v) {
                size_t sp = strspn(v, " \t"), n;

                assert_int_equal(buf_append(&ws, v, sp), 0);
                v += sp;
                n = strcspn(v, " \t");
                if (n == 0)
                        break;
                {
                        struct buf word = BUF_INIT(1 << 20);
                        bool enc = decode_word(v, n, &word);

                        if (!(enc && after_word))
                                assert_int_equal(buf_append(out, buf_cstr(&ws), ws.len), 0);
                        if (enc)
                                assert_int_equal(buf_append(out, buf_cstr(&word), word.len), 0);
                        else
                                assert_int_equal(buf_append(out, v, n), 0);
                        after_word = enc;
                        buf_deinit(&word);
                }
                buf_reset(&ws);
                v += n;
        }
        assert_int_equal(buf_append(out, buf_cstr(&ws), ws.len), 0);
        buf_deinit(&ws);
}

/* Quoted-printable decoding; also checks the encoded lines (76 columns,
 * printable ASCII, no whitespace before a line end). */
static void qp_decode(const char *s, size_t n, struct buf *out)
{
        size_t col = 0;

        for (size_t i = 0; i < n; i++) {
                if (s[i] == '\r') {
                        assert_true(i + 1 < n && s[i + 1] == '\n');
                        assert_true(i == 0 || (s[i - 1] != ' ' && s[i - 1] != '\t'));
                        assert_int_equal(buf_puts(out, "\r\n"), 0);
                        i++;
                        col = 0;
                        continue;
                }
                assert_true(++col <= 76);
                assert_true((s[i] >= 33 && s[i] <= 126) || s[i] == ' ' || s[i] == '\t');
                if (s[i] != '=') {
                        assert_int_equal(buf_putc(out, s[i]), 0);
                } else if (i + 2 < n && s[i + 1] == '\r' && s[i + 2] == '\n') {
                        i += 2; /* soft break */
                        col = 0;
                } else {
                        assert_true(i + 2 < n + 1 && hex_value(s[i + 1]) >= 0 &&
                                    hex_value(s[i + 2]) >= 0);
                        assert_int_equal(
                            buf_putc(out, (char)(hex_value(s[i + 1]) << 4 | hex_value(s[i + 2]))),
                            0);
                        i += 2;
                        col += 2;
                }
        }
        assert_true(n == 0 || s[n - 1] != ' ');
}

/* s with every line end (CRLF, LF, lone CR) written as CRLF. */
static void crlf(const char *s, struct buf *out)
{
        for (; *s; s++) {
                if (*s == '\r' && s[1] == '\n')
                        s++;
                if (*s == '\r' || *s == '\n')
                        assert_int_equal(buf_puts(out, "\r\n"), 0);
                else
                        assert_int_equal(buf_putc(out, *s), 0);
        }
}

/* ------------------------------------------------------------ MIME parts */

struct part {
        char type[64];
        char cte[32];
        const char *body;
        size_t len;
};

/* The boundary from the top-level Content-Type, into b. */
static void boundary_of(const struct parsed *p, char *b, size_t blen)
{
        const char *ct = get(p, "Content-Type");
        const char *s, *e;

        assert_non_null(ct);
        s = strstr(ct, "boundary=\"");
        assert_non_null(s);
        s += 10;
        e = strchr(s, '"');
        assert_non_null(e);
        assert_true((size_t)(e - s) < blen && e > s);
        memcpy(b, s, (size_t)(e - s));
        b[e - s] = '\0';
}

/* Splits a multipart/alternative body into its parts (at most 2). The
 * boundary occurs only in the delimiter lines: 2 opening, 1 closing. */
static size_t split_parts(const struct parsed *p, struct part *parts)
{
        char b[80], delim[90];
        const char *s = p->body, *end = p->body + p->body_len;
        size_t n = 0, hits = 0;

        boundary_of(p, b, sizeof b);
        for (const char *q = s; (q = memmem(q, (size_t)(end - q), b, strlen(b))) != NULL; q++)
                hits++;
        assert_int_equal(hits, 3);
        snprintf(delim, sizeof delim, "--%s\r\n", b);
        assert_memory_equal(s, delim, strlen(delim));
        while ((s = memmem(s, (size_t)(end - s), delim, strlen(delim))) != NULL) {
                struct parsed ph;
                const char *next;

                s += strlen(delim);
                snprintf(delim, sizeof delim, "\r\n--%s", b);
                next = memmem(s, (size_t)(end - s), delim, strlen(delim));
                assert_non_null(next);
                assert_true(n < 2);
                parse(s, (size_t)(next - s) + 2, &ph);
                snprintf(parts[n].type, sizeof parts[n].type, "%s", get(&ph, "Content-Type"));
                snprintf(parts[n].cte, sizeof parts[n].cte, "%s",
                         get(&ph, "Content-Transfer-Encoding"));
                parts[n].body = ph.body;
                parts[n].len = (size_t)(next - ph.body);
                n++;
                parsed_free(&ph);
                s = next + 2;
                snprintf(delim, sizeof delim, "--%s\r\n", b);
        }
        snprintf(delim, sizeof delim, "\r\n--%s--\r\n", b);
        assert_true(p->body_len >= strlen(delim));
        assert_memory_equal(end - strlen(delim), delim, strlen(delim));
        return n;
}

/* The decoded content of a part. */
static void part_content(const struct part *pt, struct buf *out)
{
        if (strcmp(pt->cte, "quoted-printable") == 0) {
                qp_decode(pt->body, pt->len, out);
        } else {
                assert_string_equal(pt->cte, "7bit");
                assert_int_equal(buf_append(out, pt->body, pt->len), 0);
        }
}

/* ------------------------------------------------------------ helpers */

static void build_ok(const struct mail_message *m, struct buf *out, struct parsed *p)
{
        char err[CPPO_ERRLEN] = "";
        int r = mail_build(m, out, err, sizeof err);

        if (r != 0)
                fail_msg("mail_build: %d %s", r, err);
        parse(buf_cstr(out), out->len, p);
}

/* Builds m; the decoded Subject equals want and header lines stay within
 * 78 columns. */
static void subject_round_trips(const struct mail_message *m, const char *want)
{
        struct buf out = BUF_INIT(MAIL_MAX_BYTES), dec = BUF_INIT(1 << 20);
        struct parsed p;

        build_ok(m, &out, &p);
        assert_true(p.longest_header_line <= 78);
        decode_2047(get(&p, "Subject"), &dec);
        assert_string_equal(buf_cstr(&dec), want);
        parsed_free(&p);
        buf_deinit(&dec);
        buf_deinit(&out);
}

static char *read_fixture(const char *name, size_t *len)
{
        const char *dir = getenv("CPPO_FIXTURES");
        char path[1024];
        FILE *f;
        char *data;
        long n;

        snprintf(path, sizeof path, "%s/mail/%s", dir ? dir : FIXTURES_DIR, name);
        f = fopen(path, "rb");
        assert_non_null(f);
        assert_int_equal(fseek(f, 0, SEEK_END), 0);
        n = ftell(f);
        assert_true(n > 0);
        rewind(f);
        data = malloc((size_t)n + 1);
        assert_non_null(data);
        assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
        data[n] = '\0';
        fclose(f);
        *len = (size_t)n;
        return data;
}

/* ------------------------------------------------------------ tests */

static void ascii_message_matches_golden_file(void **state)
{
        struct mail_message m = base();
        struct buf out = BUF_INIT(MAIL_MAX_BYTES);
        struct parsed p;
        size_t len;
        char *want = read_fixture("ascii.eml", &len);

        build_ok(&m, &out, &p);
        assert_int_equal(out.len, len);
        assert_memory_equal(out.data, want, len);
        assert_true(p.longest_header_line <= 78);
        assert_string_equal(p.h[0].name, "Date");
        parsed_free(&p);
        free(want);
        buf_deinit(&out);
}

static void non_ascii_subject_is_encoded_and_decodes_back(void **state)
{
        static const char *const subjects[] = {
                "\xc3\x9c"
                "bersicht \xe2\x80\x94 \xe6\x9d\xb1\xe4\xba\xac",
                "\xe6\x9d\xb1\xe4\xba\xac\xe6\x9d\xb1\xe4\xba\xac\xe6\x9d\xb1\xe4\xba\xac"
                "\xe6\x9d\xb1\xe4\xba\xac\xe6\x9d\xb1\xe4\xba\xac\xe6\x9d\xb1\xe4\xba\xac"
                "\xe6\x9d\xb1\xe4\xba\xac\xe6\x9d\xb1\xe4\xba\xac\xe6\x9d\xb1\xe4\xba\xac"
                "\xe6\x9d\xb1\xe4\xba\xac\xe6\x9d\xb1\xe4\xba\xac\xf0\x9f\x8e\x89\xf0\x9f\x8e\x89",
                "Caf\xc3\xa9 offer for Acme =?UTF-8?Q?x?= with a long tail of plain words "
                "that needs more than one encoded word to fit_in 78 columns",
                "=?UTF-8?B?eA==?=",
                "a_b? c=d",
        };
        struct mail_message m = base();

        for (size_t i = 0; i < sizeof subjects / sizeof subjects[0]; i++) {
                struct buf out = BUF_INIT(MAIL_MAX_BYTES);
                struct parsed p;

                m.subject = subjects[i];
                subject_round_trips(&m, subjects[i]);
                build_ok(&m, &out, &p);
                if (i < 4) /* not plain ASCII, or looks like an encoded-word */
                        assert_memory_equal(get(&p, "Subject"), "=?UTF-8?", 8);
                parsed_free(&p);
                buf_deinit(&out);
        }
}

static void long_ascii_subject_is_folded_at_spaces(void **state)
{
        struct mail_message m = base();
        struct buf out = BUF_INIT(MAIL_MAX_BYTES);
        struct parsed p;
        const char *s = "Partner Offer Extended: Example Partner LLC extended offer-0123456789 "
                        "to Acme Corporation International for Widget Pro Enterprise Edition, "
                        "three-year term, with   several   spaces";

        m.subject = s;
        build_ok(&m, &out, &p);
        assert_true(p.longest_header_line <= 78);
        assert_non_null(strstr(buf_cstr(&out), "\r\n "));
        /* Plain text: unfolding alone gives the subject back. */
        assert_string_equal(get(&p, "Subject"), s);
        parsed_free(&p);
        buf_deinit(&out);
        /* Trailing spaces past column 78 are no reason to fold: a
         * continuation line of spaces alone is not allowed. */
        m.subject = "word word word word word word word word word word word word word word\t";
        subject_round_trips(&m, "word word word word word word word word word word word word "
                                "word word ");
        /* A word longer than a line cannot be folded: it is encoded. */
        m.subject = "ra-0123456789012345678901234567890123456789012345678901234567890123456789xyz";
        subject_round_trips(&m, m.subject);
}

static void event_data_cannot_add_headers(void **state)
{
        struct mail_message m = base();
        struct buf out = BUF_INIT(MAIL_MAX_BYTES), dec = BUF_INIT(1 << 20);
        struct parsed p;

        m.subject = "x\r\nBcc: x@evil";
        m.opportunity_id = "ra-1\r\nX-Evil: 1";
        m.notification_key = "k\nTo: y@evil\r\n\r\n<html>";
        m.from_name = "Ops\r\nBcc: z@evil";
        build_ok(&m, &out, &p); /* parse() checks names and duplicates */
        assert_int_equal(p.n, 13);
        decode_2047(get(&p, "Subject"), &dec);
        assert_string_equal(buf_cstr(&dec), "x  Bcc: x@evil");
        buf_reset(&dec);
        decode_2047(get(&p, "X-CPPO-Opportunity-Id"), &dec);
        assert_string_equal(buf_cstr(&dec), "ra-1  X-Evil: 1");
        buf_reset(&dec);
        decode_2047(get(&p, "X-CPPO-Notification-Key"), &dec);
        assert_string_equal(buf_cstr(&dec), "k To: y@evil    <html>");
        assert_non_null(strstr(get(&p, "From"), "<cppo-notify@example.com>"));
        parsed_free(&p);
        buf_deinit(&dec);
        buf_deinit(&out);
}

static void controls_and_bad_utf8_are_replaced(void **state)
{
        struct mail_message m = base();

        m.subject = "a\tb\x01"
                    "c\x7f"
                    "d\xc2\x85"
                    "e\xff"
                    "f\xc3";
        subject_round_trips(&m, "a b c d e\xef\xbf\xbd"
                                "f\xef\xbf\xbd");
}

/* Issue 11 item 7: a bidi override in a value cannot reorder the rest of
 * the Subject, nor the other headers that carry event data. */
static void bidi_controls_are_dropped_from_headers(void **state)
{
        struct mail_message m = base();
        struct buf out = BUF_INIT(MAIL_MAX_BYTES), dec = BUF_INIT(1 << 20);
        struct parsed p;

        m.subject = "New order: Acme\xe2\x80\xae"
                    "gnp.exe\xe2\x80\xac "
                    "\xe2\x80\xaa\xe2\x80\xab\xe2\x80\xad\xe2\x81\xa6\xe2\x81\xa7"
                    "\xe2\x81\xa8\xe2\x81\xa9"
                    "x \xe2\x80\x8f\xd7\x90";
        m.opportunity_id = "ra-\xe2\x80\xae"
                           "1";
        subject_round_trips(&m, "New order: Acmegnp.exe x \xe2\x80\x8f\xd7\x90");
        build_ok(&m, &out, &p);
        decode_2047(get(&p, "X-CPPO-Opportunity-Id"), &dec);
        assert_string_equal(buf_cstr(&dec), "ra-1");
        parsed_free(&p);
        buf_deinit(&dec);
        buf_deinit(&out);
}

/* Builds a message with text body t; returns the decoded text part and its
 * transfer encoding. */
static void text_part(const char *t, const char *html, struct buf *dec, char *cte, size_t ctelen)
{
        struct mail_message m = base();
        struct buf out = BUF_INIT(MAIL_MAX_BYTES);
        struct parsed p;
        struct part parts[2];

        m.text = t;
        m.html = html;
        build_ok(&m, &out, &p);
        assert_int_equal(split_parts(&p, parts), 2);
        assert_string_equal(parts[0].type, "text/plain; charset=UTF-8");
        assert_string_equal(parts[1].type, "text/html; charset=UTF-8");
        part_content(&parts[0], dec);
        snprintf(cte, ctelen, "%s", parts[0].cte);
        parsed_free(&p);
        buf_deinit(&out);
}

static void bodies_round_trip_through_quoted_printable(void **state)
{
        static char long_line[3000];
        const char *bodies[] = {
                long_line,
                "a=b\n==\n=\n",
                "caf\xc3\xa9 \xe6\x9d\xb1\xe4\xba\xac \xf0\x9f\x8e\x89\r\nline two\rthree\n",
                "trailing space \ntrailing tab\t\r\nend with space ",
                "\x1b[31mred\x1b[0m",
                "=================================================================================="
                "===",
        };

        for (size_t i = 0; i < sizeof long_line - 1; i++)
                long_line[i] = i % 101 == 100 ? ' ' : (char)('a' + i % 26);
        for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
                struct buf dec = BUF_INIT(1 << 20), want = BUF_INIT(1 << 20),
                           in = BUF_INIT(1 << 20);
                char cte[32];

                /* A non-ASCII first line makes every body quoted-printable. */
                assert_int_equal(buf_printf(&in, "\xc3\xa9\n%s", bodies[i]), 0);
                text_part(buf_cstr(&in), "<p>\xc3\xa9</p>", &dec, cte, sizeof cte);
                crlf(buf_cstr(&in), &want);
                assert_string_equal(cte, "quoted-printable");
                assert_int_equal(dec.len, want.len);
                assert_memory_equal(buf_cstr(&dec), buf_cstr(&want), want.len);
                buf_deinit(&dec);
                buf_deinit(&want);
                buf_deinit(&in);
        }
}

static void ascii_bodies_stay_7bit(void **state)
{
        static char line[1000];
        struct buf dec = BUF_INIT(1 << 20), want = BUF_INIT(1 << 20);
        char cte[32];

        memset(line, 'x', 998);
        line[998] = '\n';
        text_part(line, "<p>x</p>", &dec, cte, sizeof cte);
        assert_string_equal(cte, "7bit");
        buf_reset(&dec);
        text_part(".\n..leading dots\n.\n", "<p>x</p>", &dec, cte, sizeof cte);
        assert_string_equal(cte, "7bit");
        crlf(".\n..leading dots\n.\n", &want);
        assert_string_equal(buf_cstr(&dec), buf_cstr(&want));
        buf_reset(&dec);
        memset(line, 'x', 999);
        line[999] = '\0';
        text_part(line, "<p>x</p>", &dec, cte, sizeof cte);
        assert_string_equal(cte, "quoted-printable");
        assert_string_equal(buf_cstr(&dec), line);
        buf_deinit(&dec);
        buf_deinit(&want);
}

static void boundary_never_occurs_inside_a_part(void **state)
{
        struct mail_message m = base();
        struct buf out = BUF_INIT(MAIL_MAX_BYTES), text = BUF_INIT(1 << 16),
                   html = BUF_INIT(1 << 16);
        struct parsed p;
        struct part parts[2];
        char natural[80], b[80];

        build_ok(&m, &out, &p);
        boundary_of(&p, natural, sizeof natural);
        parsed_free(&p);
        buf_reset(&out);
        assert_int_equal(buf_printf(&text, "--%s\n--%s--\nhello\n", natural, natural), 0);
        assert_int_equal(buf_printf(&html, "<p>%s</p>", natural), 0);
        m.text = buf_cstr(&text);
        m.html = buf_cstr(&html);
        build_ok(&m, &out, &p);
        boundary_of(&p, b, sizeof b);
        assert_string_not_equal(b, natural);
        assert_int_equal(split_parts(&p, parts), 2); /* b occurs only 3 times */
        assert_non_null(memmem(parts[0].body, parts[0].len, natural, strlen(natural)));
        parsed_free(&p);
        buf_deinit(&out);
        buf_deinit(&text);
        buf_deinit(&html);
}

static void text_only_message_is_a_single_part(void **state)
{
        struct mail_message m = base();
        struct buf out = BUF_INIT(MAIL_MAX_BYTES);
        struct parsed p;

        m.html = NULL;
        m.n_cc = 0;
        m.thread_id = NULL;
        m.opportunity_id = NULL;
        m.text = "no final newline";
        build_ok(&m, &out, &p);
        assert_string_equal(get(&p, "Content-Type"), "text/plain; charset=UTF-8");
        assert_string_equal(get(&p, "Content-Transfer-Encoding"), "7bit");
        assert_null(get(&p, "Cc"));
        assert_null(get(&p, "In-Reply-To"));
        assert_null(get(&p, "References"));
        assert_null(get(&p, "X-CPPO-Opportunity-Id"));
        assert_int_equal(p.body_len, strlen("no final newline\r\n"));
        assert_memory_equal(p.body, "no final newline\r\n", p.body_len);
        parsed_free(&p);
        buf_deinit(&out);
}

static void names_and_recipients_are_encoded_and_folded(void **state)
{
        static const char *const many[] = {
                "a.very.long.local.part.for.testing@sub1.example.com",
                "another.rather.long.recipient@sub2.example.com",
                "x@y.z",
                "third.long.one+tag@sub3.example.com",
        };
        struct mail_message m = base();
        struct buf out = BUF_INIT(MAIL_MAX_BYTES), dec = BUF_INIT(1 << 20);
        struct parsed p;
        const char *name = "Jos\xc3\xa9 \"the boss\" M\xc3\xbcller, Partner Team (EMEA) "
                           "<with a long display name that must fold>";

        m.to = many;
        m.n_to = 4;
        m.from_name = name;
        build_ok(&m, &out, &p);
        assert_true(p.longest_header_line <= 78);
        assert_string_equal(get(&p, "To"), "a.very.long.local.part.for.testing@sub1.example.com, "
                                           "another.rather.long.recipient@sub2.example.com, x@y.z, "
                                           "third.long.one+tag@sub3.example.com");
        decode_2047(get(&p, "From"), &dec);
        assert_true(dec.len > strlen(name));
        assert_memory_equal(buf_cstr(&dec), name, strlen(name));
        assert_string_equal(buf_cstr(&dec) + strlen(name), " <cppo-notify@example.com>");
        parsed_free(&p);
        buf_deinit(&dec);
        buf_deinit(&out);
}

static void invalid_addresses_are_rejected(void **state)
{
        static const char *const bad[] = {
                "",
                "plain",
                "@example.com",
                "a@",
                "a@@example.com",
                "a@b@example.com",
                "a b@example.com",
                "a@exa mple.com",
                "a\r\n@example.com",
                "a@example.com\r\n",
                "a@example.com\nBcc: b@evil",
                "<a@example.com>",
                "A <a@example.com>",
                "a,b@example.com",
                "\"a\"@example.com",
                ".a@example.com",
                "a.@example.com",
                "a..b@example.com",
                "a@-example.com",
                "a@example-.com",
                "a@example..com",
                "a@example.com.",
                "a@exa_mple.com",
                "caf\xc3\xa9@example.com",
                "a@[127.0.0.1]",
                "a(b)@example.com",
                "a;b@example.com",
        };
        static const char *const good[] = {
                "a@b",
                "ops@example.com",
                "first.last+tag@sub.example.co.uk",
                "o'brien@example.com",
                "x_y-z@ex-ample.com",
                "ALL@CAPS.ORG",
        };
        char local[80], dom[300];

        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                if (mail_address_valid(bad[i]))
                        fail_msg("accepted bad address #%zu", i);
        }
        for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
                assert_true(mail_address_valid(good[i]));
        assert_false(mail_address_valid(NULL));
        /* Lengths: local part 64, label 63, whole address 254. */
        memset(local, 'l', 65);
        snprintf(local + 64, sizeof local - 64, "@example.com");
        assert_true(mail_address_valid(local));
        memset(local, 'l', 65);
        snprintf(local + 65, sizeof local - 65, "@example.com");
        assert_false(mail_address_valid(local));
        snprintf(dom, sizeof dom, "a@%.63s.%.63s.%.63s.%.60s", local, local, local, local);
        assert_int_equal(strlen(dom), 254);
        assert_true(mail_address_valid(dom));
        snprintf(dom, sizeof dom, "a@%.63s.%.63s.%.63s.%.61s", local, local, local, local);
        assert_false(mail_address_valid(dom));
        snprintf(dom, sizeof dom, "a@%.64s.com", local);
        assert_false(mail_address_valid(dom));
}

/* mail_build fails with -EINVAL, names want in err and never echoes value. */
static void build_fails(const struct mail_message *m, const char *want, const char *value)
{
        struct buf out = BUF_INIT(MAIL_MAX_BYTES);
        char err[CPPO_ERRLEN] = "";

        assert_int_equal(buf_puts(&out, "keep"), 0);
        assert_int_equal(mail_build(m, &out, err, sizeof err), -EINVAL);
        assert_non_null(strstr(err, want));
        if (value)
                assert_null(strstr(err, value));
        assert_string_equal(buf_cstr(&out), "keep");
        buf_deinit(&out);
}

static void invalid_messages_name_the_field(void **state)
{
        static const char *const bad_to[] = { "ok@example.com", "x@evil\r\nBcc: y@evil" };
        static const char *const bad_cc[] = { "cc <c@example.com>" };
        struct mail_message m = base();

        m.from = "no at sign";
        build_fails(&m, "'from'", m.from);
        m = base();
        m.to = bad_to;
        build_fails(&m, "'to'", "evil");
        m = base();
        m.cc = bad_cc;
        build_fails(&m, "'cc'", "c@example");
        m = base();
        m.n_to = 0;
        build_fails(&m, "'to'", NULL);
        m = base();
        m.subject = NULL;
        build_fails(&m, "'subject'", NULL);
        m = base();
        m.text = NULL;
        build_fails(&m, "'text'", NULL);
        m = base();
        m.message_id = "<id@example.com>";
        build_fails(&m, "'message_id'", NULL);
        m = base();
        m.thread_id = "id@example.com\r\nX: y";
        build_fails(&m, "'thread_id'", NULL);
}

static void oversized_message_is_refused(void **state)
{
        struct mail_message m = base();
        struct buf out = BUF_INIT(MAIL_MAX_BYTES);
        char err[CPPO_ERRLEN];
        char *big = malloc(MAIL_MAX_BYTES / 2);

        assert_non_null(big);
        memset(big, '=', MAIL_MAX_BYTES / 2 - 1); /* triples in quoted-printable */
        big[MAIL_MAX_BYTES / 2 - 1] = '\0';
        m.text = big;
        assert_int_equal(mail_build(&m, &out, err, sizeof err), -E2BIG);
        assert_int_equal(out.len, 0);
        free(big);
}

static void stable_ids_are_name_based_uuids(void **state)
{
        char a[128], b[128], c[128], small[37 + 11];

        assert_int_equal(mail_stable_id("thread/ra-1", "example.com", a, sizeof a), 0);
        assert_int_equal(mail_stable_id("thread/ra-1", "example.com", b, sizeof b), 0);
        assert_int_equal(mail_stable_id("thread/ra-2", "example.com", c, sizeof c), 0);
        assert_string_equal(a, b);
        assert_string_not_equal(a, c);
        assert_true(mail_address_valid(a));
        assert_int_equal(strlen(a), 36 + 1 + strlen("example.com"));
        for (size_t i = 0; i < 36; i++) {
                if (i == 8 || i == 13 || i == 18 || i == 23)
                        assert_int_equal(a[i], '-');
                else
                        assert_non_null(strchr("0123456789abcdef", a[i]));
        }
        assert_int_equal(a[14], '5');           /* version 5: SHA-1, name-based */
        assert_non_null(strchr("89ab", a[19])); /* RFC 4122 variant */
        assert_string_equal(a + 36, "@example.com");
        assert_int_equal(mail_stable_id("thread/ra-1", "other.org", c, sizeof c), 0);
        assert_memory_equal(a, c, 36); /* the UUID depends on the name only */
        assert_int_equal(mail_stable_id("x", "example.com", small, sizeof small), -E2BIG);
        assert_int_equal(mail_stable_id("x", "example.com", a, 38 + 11), 0);
        assert_int_equal(mail_stable_id("x", "bad domain", a, sizeof a), -EINVAL);
        assert_string_equal(mail_address_domain("a@example.com"), "example.com");
        assert_string_equal(mail_address_domain("nodomain"), "localhost");
        assert_string_equal(mail_address_domain(NULL), "localhost");
}

static void thread_root_does_not_reply_to_itself(void **state)
{
        struct mail_message m = base();
        struct buf out = BUF_INIT(MAIL_MAX_BYTES);
        struct parsed p;

        m.thread_id = m.message_id;
        build_ok(&m, &out, &p);
        assert_null(get(&p, "In-Reply-To"));
        assert_null(get(&p, "References"));
        parsed_free(&p);
        buf_deinit(&out);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(ascii_message_matches_golden_file),
                cmocka_unit_test(non_ascii_subject_is_encoded_and_decodes_back),
                cmocka_unit_test(long_ascii_subject_is_folded_at_spaces),
                cmocka_unit_test(event_data_cannot_add_headers),
                cmocka_unit_test(controls_and_bad_utf8_are_replaced),
                cmocka_unit_test(bidi_controls_are_dropped_from_headers),
                cmocka_unit_test(bodies_round_trip_through_quoted_printable),
                cmocka_unit_test(ascii_bodies_stay_7bit),
                cmocka_unit_test(boundary_never_occurs_inside_a_part),
                cmocka_unit_test(text_only_message_is_a_single_part),
                cmocka_unit_test(names_and_recipients_are_encoded_and_folded),
                cmocka_unit_test(invalid_addresses_are_rejected),
                cmocka_unit_test(invalid_messages_name_the_field),
                cmocka_unit_test(oversized_message_is_refused),
                cmocka_unit_test(stable_ids_are_name_based_uuids),
                cmocka_unit_test(thread_root_does_not_reply_to_itself),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
