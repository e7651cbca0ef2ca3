/* cppo-notify — RFC 5322 / MIME message builder (see include/cppo/mail.h).
 *
 * Everything that can carry event data goes through mail_encode_header()
 * (headers) or the part encoders (bodies); nothing else of the input is
 * written unchecked. The builder writes into a private buffer and appends it
 * to the caller's only when the whole message is done, so a failure leaves
 * the caller's buffer as it was.
 */
#include "cppo/mail.h"

#include "cppo/error.h"
#include "cppo/sha256.h"
#include "cppo/utf8.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <uuid/uuid.h>

#define FOLD_COLS    78  /* RFC 5322 2.1.1: lines SHOULD stay within 78 characters */
#define LINE_OCTETS  998 /* RFC 5322 2.1.1: lines MUST stay within 998 octets */
#define QP_COLS      76  /* RFC 2045 6.7 (5): encoded lines at most 76 characters */
#define EW_COLS      75  /* RFC 2047 2: an encoded-word is at most 75 characters */
#define EW_OVERHEAD  12  /* "=?UTF-8?B?" + "?=" */
#define ADDR_MAX     254 /* RFC 5321 4.5.3.1.3 path limit minus the brackets */
#define LOCAL_MAX    64  /* RFC 5321 4.5.3.1.1 */
#define LABEL_MAX    63
#define BOUNDARY_PFX "=_cppo_" /* "=_" never occurs in quoted-printable output */
#define BOUNDARY_HEX 24
#define BOUNDARY_TRY 16

/* Namespace of the name-based (version 5) UUIDs behind mail_stable_id():
 * 40bfd868-bc1b-4073-a011-211cd9d88209, drawn at random once for this
 * project. Changing it changes every Message-ID and thread id, so mail
 * already sent would no longer thread with new mail. */
static const uuid_t stable_ns = {
        0x40, 0xbf, 0xd8, 0x68, 0xbc, 0x1b, 0x40, 0x73,
        0xa0, 0x11, 0x21, 0x1c, 0xd9, 0xd8, 0x82, 0x09,
};

static const char hex_upper[] = "0123456789ABCDEF";

/* ------------------------------------------------------------ characters */

static bool is_alnum(unsigned char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* RFC 5322 3.2.3 atext. */
static bool is_atext(unsigned char c)
{
        return is_alnum(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* Characters an RFC 2047 "Q" word may carry literally in any header,
 * phrases included (5 (3)). */
static bool is_q_safe(unsigned char c)
{
        return is_alnum(c) || c == '!' || c == '*' || c == '+' || c == '-' || c == '/';
}

/* Copies s into dst as valid UTF-8 without control characters: C0, DEL and
 * C1 controls become spaces (so CR and LF can never end a header line),
 * bidi controls are dropped (so a value cannot reorder the rest of the
 * line a mail client shows), and bytes that are not UTF-8 become U+FFFD. */
static int sanitize(struct buf *dst, const char *s)
{
        const unsigned char *p = (const unsigned char *)s;
        size_t n = strlen(s);
        int r = 0;

        for (size_t i = 0; i < n && r == 0;) {
                size_t len = utf8_char(p + i, n - i, NULL);

                if (len == 0) {
                        r = buf_append(dst, "\xef\xbf\xbd", 3);
                        i++;
                } else if ((len == 1 && (p[i] < 0x20 || p[i] == 0x7f)) ||
                           (len == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0)) {
                        r = buf_putc(dst, ' ');
                        i += len;
                } else if (utf8_bidi_len(p + i, n - i) > 0) {
                        i += len;
                } else {
                        r = buf_append(dst, p + i, len);
                        i += len;
                }
        }
        return r;
}

/* ------------------------------------------------------------ header values */

/* Whether a sanitised value can go out as it is: printable ASCII, nothing a
 * decoder could take for an encoded-word and, in a phrase (display name),
 * only atoms and spaces so that no quoting is needed. */
static bool plain_ok(const char *s, size_t n, bool phrase)
{
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];

                if (c >= 0x7f || (phrase && c != ' ' && !is_atext(c)))
                        return false;
        }
        return memmem(s, n, "=?", 2) == NULL;
}

/* Folds printable ASCII s before spaces so every line stays within
 * FOLD_COLS, starting at column col. With out == NULL only checks: 0 when
 * it fits, -ERANGE when a word is too long (the caller then encodes). A
 * fold goes before the last space of a run, so no line is only spaces. */
static int fold_plain(struct buf *out, const char *s, size_t n, size_t col)
{
        bool has_word = false;
        int r = 0;

        for (size_t i = 0; i < n && r == 0;) {
                size_t j = i, k;

                while (j < n && s[j] == ' ')
                        j++;
                for (k = j; k < n && s[k] != ' ';)
                        k++;
                /* Fold only before a word: a line of spaces alone would be
                 * an empty continuation line (RFC 5322 3.2.2). */
                if (col + (k - i) > FOLD_COLS && has_word && j > i && k > j) {
                        col += j - 1 - i;
                        if (out)
                                r = buf_append(out, s + i, j - 1 - i);
                        if (out && r == 0)
                                r = buf_puts(out, "\r\n");
                        if (col > FOLD_COLS)
                                return -ERANGE;
                        i = j - 1;
                        col = 0;
                }
                col += k - i;
                if (col > FOLD_COLS)
                        return -ERANGE;
                if (out && r == 0)
                        r = buf_append(out, s + i, k - i);
                has_word = has_word || k > j;
                i = k;
        }
        return r;
}

static size_t q_len(unsigned char c)
{
        return is_q_safe(c) || c == ' ' ? 1 : 3;
}

static size_t b64_len(size_t n)
{
        return (n + 2) / 3 * 4;
}

/* Q when it is no longer than B: mostly-ASCII text stays readable. */
static bool prefer_q(const unsigned char *s, size_t n)
{
        size_t q = 0;

        for (size_t i = 0; i < n; i++)
                q += q_len(s[i]);
        return q <= b64_len(n);
}

/* End of the longest run of whole characters from i whose encoding fits in
 * budget columns. s is valid UTF-8 (sanitised), so no character is split
 * across encoded-words (RFC 2047 5). */
static size_t word_end(const unsigned char *s, size_t n, size_t i, size_t budget, bool q)
{
        size_t start = i, used = 0;

        while (i < n) {
                size_t len = utf8_char(s + i, n - i, NULL), need = used;

                if (len == 0)
                        len = 1;
                if (q) {
                        for (size_t k = 0; k < len; k++)
                                need += q_len(s[i + k]);
                } else {
                        need = b64_len(i + len - start);
                }
                if (need > budget)
                        break;
                used = need;
                i += len;
        }
        return i;
}

static int put_b64(struct buf *out, const unsigned char *s, size_t n)
{
        static const char tab[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        int r = 0;

        for (size_t i = 0; i < n && r == 0; i += 3) {
                uint32_t v = (uint32_t)s[i] << 16;
                char q[4];

                if (i + 1 < n)
                        v |= (uint32_t)s[i + 1] << 8;
                if (i + 2 < n)
                        v |= s[i + 2];
                q[0] = tab[v >> 18 & 63];
                q[1] = tab[v >> 12 & 63];
                q[2] = i + 1 < n ? tab[v >> 6 & 63] : '=';
                q[3] = i + 2 < n ? tab[v & 63] : '=';
                r = buf_append(out, q, 4);
        }
        return r;
}

static int put_q(struct buf *out, const unsigned char *s, size_t n)
{
        int r = 0;

        for (size_t i = 0; i < n && r == 0; i++) {
                if (is_q_safe(s[i])) {
                        r = buf_putc(out, (char)s[i]);
                } else if (s[i] == ' ') {
                        r = buf_putc(out, '_');
                } else {
                        char e[3] = { '=', hex_upper[s[i] >> 4], hex_upper[s[i] & 15] };
                        r = buf_append(out, e, 3);
                }
        }
        return r;
}

/* Writes s as UTF-8 encoded-words, one per line, each within EW_COLS and
 * every line within FOLD_COLS; the first one starts at column col. */
static int put_encoded(struct buf *out, const unsigned char *s, size_t n, size_t col)
{
        bool q = prefer_q(s, n);
        int r = 0;

        for (size_t i = 0; i < n && r == 0;) {
                size_t room = FOLD_COLS - (col < FOLD_COLS ? col : FOLD_COLS);
                size_t budget = (room < EW_COLS ? room : EW_COLS), end;

                budget = budget > EW_OVERHEAD ? budget - EW_OVERHEAD : 0;
                end = word_end(s, n, i, budget, q);
                if (end == i) {
                        /* Not even one character fits after a long header
                         * name: start on a continuation line (col 1 always
                         * has room for the widest character). */
                        if (col == 1)
                                return -EINVAL;
                        r = buf_puts(out, "\r\n ");
                        col = 1;
                        continue;
                }
                r = buf_puts(out, q ? "=?UTF-8?Q?" : "=?UTF-8?B?");
                if (r == 0)
                        r = q ? put_q(out, s + i, end - i) : put_b64(out, s + i, end - i);
                if (r == 0)
                        r = buf_puts(out, "?=");
                i = end;
                if (r == 0 && i < n)
                        r = buf_puts(out, "\r\n ");
                col = 1;
        }
        return r;
}

/* Sanitises s and writes it plain (folded) or encoded, from column col. */
static int encode_value(struct buf *out, const char *s, size_t col, bool phrase)
{
        struct buf clean = BUF_INIT(MAIL_MAX_BYTES);
        int r;

        r = sanitize(&clean, s);
        if (r < 0)
                goto out;
        if (plain_ok(buf_cstr(&clean), clean.len, phrase) &&
            fold_plain(NULL, buf_cstr(&clean), clean.len, col) == 0)
                r = fold_plain(out, buf_cstr(&clean), clean.len, col);
        else
                r = put_encoded(out, (const unsigned char *)buf_cstr(&clean), clean.len, col);
out:
        buf_deinit(&clean);
        return r;
}

int mail_encode_header(struct buf *out, const char *s, size_t header_name_len)
{
        if (out == NULL || s == NULL)
                return -EINVAL;
        return encode_value(out, s, header_name_len + 2, false);
}

/* ------------------------------------------------------------ addresses */

/* Dot-atom text (RFC 5322 3.2.3): atext runs joined by single dots. */
static bool dot_atom_ok(const char *s, size_t n)
{
        if (n == 0 || s[0] == '.' || s[n - 1] == '.')
                return false;
        for (size_t i = 0; i < n; i++) {
                if (s[i] == '.' ? s[i + 1] == '.' : !is_atext((unsigned char)s[i]))
                        return false;
        }
        return true;
}

/* A host name: LDH labels of 1..63 characters, no hyphen at either end. */
static bool domain_ok(const char *s)
{
        size_t label = 0, n = strlen(s);

        if (n == 0 || n > ADDR_MAX)
                return false;
        for (size_t i = 0; i <= n; i++) {
                if (i == n || s[i] == '.') {
                        if (label == 0 || label > LABEL_MAX || s[i - 1] == '-' ||
                            s[i - label] == '-')
                                return false;
                        label = 0;
                } else if (is_alnum((unsigned char)s[i]) || s[i] == '-') {
                        label++;
                } else {
                        return false;
                }
        }
        return true;
}

bool mail_address_valid(const char *addr)
{
        const char *at;

        if (addr == NULL || strnlen(addr, ADDR_MAX + 1) > ADDR_MAX)
                return false;
        at = strchr(addr, '@');
        if (at == NULL || at == addr || (size_t)(at - addr) > LOCAL_MAX)
                return false;
        return dot_atom_ok(addr, (size_t)(at - addr)) && domain_ok(at + 1);
}

const char *mail_address_domain(const char *addr)
{
        if (!mail_address_valid(addr))
                return "localhost";
        return strchr(addr, '@') + 1;
}

int mail_stable_id(const char *name, const char *domain, char *out, size_t outlen)
{
        char text[UUID_STR_LEN];
        uuid_t id;
        size_t dlen;

        if (name == NULL || out == NULL)
                return -EINVAL;
        if (domain == NULL)
                domain = "localhost";
        if (!domain_ok(domain))
                return -EINVAL;
        dlen = strlen(domain);
        if (outlen < UUID_STR_LEN + 1 + dlen)
                return -E2BIG;
        uuid_generate_sha1(id, stable_ns, name, strlen(name));
        uuid_unparse_lower(id, text);
        snprintf(out, outlen, "%s@%s", text, domain);
        return 0;
}

/* ------------------------------------------------------------ bodies */

/* 7bit (RFC 2045 2.7) applies when the text is ASCII without controls other
 * than TAB and line ends, and no line passes LINE_OCTETS. A line starting
 * with "." needs nothing here: libcurl dot-stuffs SMTP DATA. */
static bool body_7bit(const char *s)
{
        size_t line = 0;

        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                if (*p == '\r' || *p == '\n') {
                        line = 0;
                        continue;
                }
                if (*p >= 0x7f || (*p < 0x20 && *p != '\t') || ++line > LINE_OCTETS)
                        return false;
        }
        return true;
}

/* Length of the line end at p: CRLF, a lone LF or a lone CR (all become
 * CRLF), 0 when p is not at one. */
static size_t eol_len(const char *p)
{
        if (p[0] == '\r')
                return p[1] == '\n' ? 2 : 1;
        return p[0] == '\n' ? 1 : 0;
}

static int put_7bit(struct buf *out, const char *s)
{
        int r = 0;

        while (*s && r == 0) {
                size_t n = strcspn(s, "\r\n");

                r = buf_append(out, s, n);
                s += n;
                if (*s && r == 0) {
                        r = buf_puts(out, "\r\n");
                        s += eol_len(s);
                }
        }
        return r;
}

/* Quoted-printable (RFC 2045 6.7): '=', non-ASCII, controls and
 * whitespace before a line end are =XX; line ends are hard CRLF breaks;
 * longer lines get soft breaks ("=" CRLF) to stay within QP_COLS. */
static int put_qp(struct buf *out, const char *s)
{
        size_t col = 0;
        int r = 0;

        for (const char *p = s; *p && r == 0;) {
                unsigned char c = (unsigned char)*p;
                bool last = p[1] == '\0' || eol_len(p + 1) > 0;
                char tok[3] = { (char)c, 0, 0 };
                size_t tl = 1;

                if (eol_len(p)) {
                        r = buf_puts(out, "\r\n");
                        col = 0;
                        p += eol_len(p);
                        continue;
                }
                if (c == '=' || c > 126 || (c < 32 && c != '\t') ||
                    ((c == ' ' || c == '\t') && last)) {
                        tok[0] = '=', tok[1] = hex_upper[c >> 4], tok[2] = hex_upper[c & 15];
                        tl = 3;
                }
                /* The soft break's "=" needs a column unless this is the
                 * line's last token. */
                if (col + tl > (last ? QP_COLS : QP_COLS - 1)) {
                        r = buf_puts(out, "=\r\n");
                        col = 0;
                }
                if (r == 0)
                        r = buf_append(out, tok, tl);
                col += tl;
                p++;
        }
        return r;
}

struct part {
        struct buf body; /* encoded */
        const char *cte;
};

static int encode_part(struct part *p, const char *s)
{
        buf_init(&p->body, MAIL_MAX_BYTES);
        if (body_7bit(s)) {
                p->cte = "7bit";
                return put_7bit(&p->body, s);
        }
        p->cte = "quoted-printable";
        return put_qp(&p->body, s);
}

/* The boundary: a hash of the Message-ID, so the same message always gets
 * the same one. If that string occurs in a part (someone put it there),
 * the next tries also hash the parts, which event data cannot predict. */
static int choose_boundary(const char *msgid, const struct part *parts, size_t n, char *out,
                           size_t outlen)
{
        for (unsigned v = 0; v < BOUNDARY_TRY; v++) {
                struct sha256 h;
                uint8_t d[32];
                bool clash = false;
                size_t len = strlen(BOUNDARY_PFX);

                sha256_init(&h);
                sha256_update(&h, msgid, strlen(msgid));
                for (size_t i = 0; v > 0 && i < n; i++) {
                        sha256_update(&h, "\0", 1);
                        sha256_update(&h, buf_cstr(&parts[i].body), parts[i].body.len);
                }
                if (v > 0)
                        sha256_update(&h, &(uint8_t){ (uint8_t)v }, 1);
                sha256_final(&h, d);
                snprintf(out, outlen, "%s", BOUNDARY_PFX);
                for (size_t i = 0; i < BOUNDARY_HEX / 2 && len + 2 < outlen; i++, len += 2)
                        snprintf(out + len, outlen - len, "%02x", d[i]);
                for (size_t i = 0; i < n; i++)
                        clash = clash || memmem(buf_cstr(&parts[i].body), parts[i].body.len, out,
                                                len) != NULL;
                if (!clash)
                        return 0;
        }
        return -EINVAL;
}

/* ------------------------------------------------------------ headers */

static bool present(const char *s)
{
        return s != NULL && s[0] != '\0';
}

static int check_list(const char *field, const char *const *v, size_t n, char *err, size_t errlen)
{
        if (n > 0 && v == NULL)
                return error_set(err, errlen, -EINVAL, "missing '%s' addresses", field);
        for (size_t i = 0; i < n; i++) {
                if (!mail_address_valid(v[i]))
                        return error_set(err, errlen, -EINVAL, "invalid address in '%s' (#%zu)",
                                         field, i + 1);
        }
        return 0;
}

static int check_message(const struct mail_message *m, char *err, size_t errlen)
{
        if (m->n_to == 0)
                return error_set(err, errlen, -EINVAL, "missing 'to'");
        if (m->subject == NULL)
                return error_set(err, errlen, -EINVAL, "missing 'subject'");
        if (m->text == NULL)
                return error_set(err, errlen, -EINVAL, "missing 'text'");
        if (!mail_address_valid(m->from))
                return error_set(err, errlen, -EINVAL, "invalid or missing 'from' address");
        if (!mail_address_valid(m->message_id))
                return error_set(err, errlen, -EINVAL, "invalid or missing 'message_id'");
        if (present(m->thread_id) && !mail_address_valid(m->thread_id))
                return error_set(err, errlen, -EINVAL, "invalid 'thread_id'");
        if (check_list("to", m->to, m->n_to, err, errlen) < 0)
                return -EINVAL;
        return check_list("cc", m->cc, m->n_cc, err, errlen);
}

static int put_date(struct buf *out, int64_t date)
{
        static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
        static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
        time_t t = (time_t)date;
        struct tm tm;

        if ((int64_t)t != date || gmtime_r(&t, &tm) == NULL || tm.tm_year < -1900 + 1000 ||
            tm.tm_year > 9999 - 1900)
                return -EINVAL;
        return buf_printf(out, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n", days[tm.tm_wday],
                          tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                          tm.tm_sec);
}

/* Column of the end of out (bytes since the last line break). */
static size_t column(const struct buf *out)
{
        const char *s = buf_cstr(out);
        size_t i = out->len;

        while (i > 0 && s[i - 1] != '\n')
                i--;
        return out->len - i;
}

static int put_from(struct buf *out, const char *addr, const char *name)
{
        int r = buf_puts(out, "From: ");
        size_t alen = strlen(addr);

        if (r == 0 && present(name) && strspn(name, " ") < strlen(name)) {
                r = encode_value(out, name, column(out), true);
                if (r == 0)
                        r = buf_puts(out, column(out) + alen + 3 > FOLD_COLS ? "\r\n " : " ");
        }
        if (r == 0)
                r = buf_printf(out, "<%s>\r\n", addr);
        return r;
}

/* "Name: a@x, b@y", folded before an address that would pass FOLD_COLS. */
static int put_list(struct buf *out, const char *name, const char *const *v, size_t n)
{
        size_t col = strlen(name) + 1;
        int r = buf_printf(out, "%s:", name);

        for (size_t i = 0; i < n && r == 0; i++) {
                size_t len = strlen(v[i]), tail = i + 1 < n ? 1 : 0;

                if (i > 0 && col + 1 + len + tail > FOLD_COLS) {
                        r = buf_puts(out, "\r\n");
                        col = 0;
                }
                if (r == 0)
                        r = buf_printf(out, " %s%s", v[i], tail ? "," : "");
                col += 1 + len + tail;
        }
        if (r == 0)
                r = buf_puts(out, "\r\n");
        return r;
}

/* A header whose value may carry event data; skipped when value is unset. */
static int put_data_header(struct buf *out, const char *name, const char *value)
{
        int r;

        if (value == NULL)
                return 0;
        r = buf_printf(out, "%s: ", name);
        if (r == 0)
                r = mail_encode_header(out, value, strlen(name));
        if (r == 0)
                r = buf_puts(out, "\r\n");
        return r;
}

static int put_headers(struct buf *out, const struct mail_message *m)
{
        int r = put_date(out, m->date);

        if (r == 0)
                r = put_from(out, m->from, m->from_name);
        if (r == 0)
                r = put_list(out, "To", m->to, m->n_to);
        if (r == 0 && m->n_cc > 0)
                r = put_list(out, "Cc", m->cc, m->n_cc);
        if (r == 0)
                r = put_data_header(out, "Subject", m->subject);
        if (r == 0)
                r = buf_printf(out, "Message-ID: <%s>\r\n", m->message_id);
        /* The first message of a thread is the thread: it replies to nothing. */
        if (r == 0 && present(m->thread_id) && strcmp(m->thread_id, m->message_id) != 0)
                r = buf_printf(out, "In-Reply-To: <%s>\r\nReferences: <%s>\r\n", m->thread_id,
                               m->thread_id);
        if (r == 0)
                r = buf_puts(out, "Auto-Submitted: auto-generated\r\n");
        if (r == 0 && present(m->opportunity_id))
                r = put_data_header(out, "X-CPPO-Opportunity-Id", m->opportunity_id);
        if (r == 0 && present(m->notification_key))
                r = put_data_header(out, "X-CPPO-Notification-Key", m->notification_key);
        if (r == 0)
                r = buf_puts(out, "MIME-Version: 1.0\r\n");
        return r;
}

/* Part headers, the blank line and the encoded body. */
static int put_part(struct buf *out, const char *type, const struct part *p)
{
        int r = buf_printf(out,
                           "Content-Type: text/%s; charset=UTF-8\r\n"
                           "Content-Transfer-Encoding: %s\r\n\r\n",
                           type, p->cte);

        if (r == 0)
                r = buf_append(out, buf_cstr(&p->body), p->body.len);
        return r;
}

static bool ends_with_crlf(const struct buf *b)
{
        return b->len >= 2 && memcmp(b->data + b->len - 2, "\r\n", 2) == 0;
}

/* The body after the top-level headers: one text/plain part, or
 * multipart/alternative with text first and HTML second. The message ends
 * with CRLF in both cases. */
static int put_body(struct buf *out, const struct part *parts, size_t n, const char *boundary)
{
        static const char *const types[] = { "plain", "html" };
        int r;

        if (n == 1) {
                r = put_part(out, "plain", &parts[0]);
                if (r == 0 && !ends_with_crlf(&parts[0].body))
                        r = buf_puts(out, "\r\n");
                return r;
        }
        r = buf_printf(out, "Content-Type: multipart/alternative;\r\n boundary=\"%s\"\r\n\r\n",
                       boundary);
        for (size_t i = 0; i < n && r == 0; i++) {
                r = buf_printf(out, "--%s\r\n", boundary);
                if (r == 0)
                        r = put_part(out, types[i], &parts[i]);
                /* This CRLF belongs to the delimiter (RFC 2046 5.1.1). */
                if (r == 0)
                        r = buf_puts(out, "\r\n");
        }
        if (r == 0)
                r = buf_printf(out, "--%s--\r\n", boundary);
        return r;
}

/* Encodes the parts, picks the boundary and writes the message into msg. */
static int build(const struct mail_message *m, struct part *parts, size_t *n, struct buf *msg,
                 char *err, size_t errlen)
{
        char boundary[sizeof(BOUNDARY_PFX) + BOUNDARY_HEX];
        int r;

        r = encode_part(&parts[(*n)++], m->text);
        if (r == 0 && m->html != NULL)
                r = encode_part(&parts[(*n)++], m->html);
        if (r < 0)
                return error_set(err, errlen, r, "body too large or out of memory");
        r = choose_boundary(m->message_id, parts, *n, boundary, sizeof boundary);
        if (r < 0)
                return error_set(err, errlen, r, "no MIME boundary absent from the parts");
        r = put_headers(msg, m);
        if (r == -EINVAL)
                return error_set(err, errlen, r, "'date' out of range");
        if (r == 0)
                r = put_body(msg, parts, *n, boundary);
        if (r < 0)
                return error_set(err, errlen, r, "message too large or out of memory");
        return 0;
}

int mail_build(const struct mail_message *m, struct buf *out, char *err, size_t errlen)
{
        struct buf msg = BUF_INIT(MAIL_MAX_BYTES);
        struct part parts[2];
        size_t n = 0;
        int r;

        if (m == NULL || out == NULL)
                return error_set(err, errlen, -EINVAL, "no message");
        r = check_message(m, err, errlen);
        if (r < 0)
                return r;
        r = build(m, parts, &n, &msg, err, errlen);
        if (r == 0) {
                r = buf_append(out, buf_cstr(&msg), msg.len);
                if (r < 0)
                        error_set(err, errlen, r, "message does not fit the output buffer");
        }
        while (n > 0)
                buf_deinit(&parts[--n].body);
        buf_deinit(&msg);
        return r;
}
