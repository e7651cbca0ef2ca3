/* cppo-notify — a notification's context document: what rules match and
 * templates render (see corr_internal.h). */
#include "corr_internal.h"

#include "cppo/buf.h"
#include "cppo/strlist.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

/* ---- the writer ----
 *
 * The context is written straight into a buffer rather than through yajl's
 * generator: a replay writes one per notification, and yajl's per-call
 * state checks and per-byte escaping cost 38k instructions a context (this
 * writer: 17k). The text is byte for byte what yajl_gen (compact, no
 * solidus escaping, no UTF-8 validation) wrote before, so stored contexts
 * compare equal across versions (test-correlate checks it against yajl).
 * The first failed append is kept in r and every later step skipped. */

/* A context larger than this is an error: far beyond any input line. */
#define CONTEXT_MAX ((size_t)64 << 20)

struct cw {
        struct buf b;
        int r;
        bool first; /* nothing written yet in the open map or array */
};

/* Appends n bytes. The buffer's room is used directly when there is
 * enough of it (most appends are a byte or two of punctuation). */
static void cw_put(struct cw *w, const char *p, size_t n)
{
        if (w->r == 0 && w->b.data && w->b.cap - w->b.len > n) {
                memcpy(w->b.data + w->b.len, p, n);
                w->b.len += n;
                w->b.data[w->b.len] = '\0';
        } else if (w->r == 0) {
                w->r = buf_append(&w->b, p, n);
        }
}

/* yajl_string_encode's escapes: the short ones, \u00XX (upper case) for
 * the other control bytes; every other byte is written as it is. */
static size_t put_escape(char *o, unsigned char c)
{
        static const char digits[] = "0123456789ABCDEF";
        char e = c == '"'    ? '"'
                 : c == '\\' ? '\\'
                 : c == '\b' ? 'b'
                 : c == '\f' ? 'f'
                 : c == '\n' ? 'n'
                 : c == '\r' ? 'r'
                 : c == '\t' ? 't'
                             : 0;

        o[0] = '\\';
        if (e) {
                o[1] = e;
                return 2;
        }
        memcpy(o + 1, "u00", 3);
        o[4] = digits[c >> 4];
        o[5] = digits[c & 15];
        return 6;
}

/* Whether none of the 8 bytes in v needs an escape: none is below 0x20,
 * a quote or a backslash (the usual word-at-a-time tests for a zero byte
 * and a byte below n, which are exact about whether there is one). */
static bool plain_word(uint64_t v)
{
        const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
        uint64_t q = v ^ (ones * '"'), b = v ^ (ones * '\\');
        uint64_t control = (v - ones * 0x20) & ~v, quote = (q - ones) & ~q,
                 backslash = (b - ones) & ~b;

        return ((control | quote | backslash) & highs) == 0;
}

/* s quoted, or null. Room for the worst case (every byte six) is made
 * once, then the bytes are written straight into it, eight at a time
 * while none needs an escape. */
static void cw_quoted(struct cw *w, const char *s)
{
        size_t n, i = 0;
        char *o;

        if (s == NULL) {
                cw_put(w, "null", 4);
                return;
        }
        n = strlen(s);
        if (w->r == 0 && n > w->b.max / 6)
                w->r = -E2BIG;
        else if (w->r == 0 && (w->b.data == NULL || w->b.cap - w->b.len < 6 * n + 3))
                w->r = buf_reserve(&w->b, 6 * n + 2); /* + quotes, + NUL */
        if (w->r != 0)
                return;
        o = w->b.data + w->b.len;
        *o++ = '"';
        while (i < n) {
                uint64_t v;
                size_t end = i + 8 <= n ? i + 8 : n;

                if (end == i + 8 && (memcpy(&v, s + i, 8), plain_word(v))) {
                        memcpy(o, s + i, 8);
                        o += 8;
                        i += 8;
                        continue;
                }
                for (; i < end; i++) {
                        unsigned char c = (unsigned char)s[i];
                        if (c >= 0x20 && c != '"' && c != '\\')
                                *o++ = (char)c;
                        else
                                o += put_escape(o, c);
                }
        }
        *o++ = '"';
        *o = '\0';
        w->b.len = (size_t)(o - w->b.data);
}

/* The separator before a member or element, and the member's key (NULL:
 * an array element). */
static void cw_key(struct cw *w, const char *key)
{
        if (!w->first)
                cw_put(w, ",", 1);
        w->first = false;
        if (key) {
                cw_quoted(w, key);
                cw_put(w, ":", 1);
        }
}

/* Opens a map or an array ('{' or '['), as the value of key. */
static void cw_open(struct cw *w, const char *key, char bracket)
{
        cw_key(w, key);
        cw_put(w, &bracket, 1);
        w->first = true;
}

static void cw_close(struct cw *w, char bracket)
{
        cw_put(w, &bracket, 1);
        w->first = false;
}

static void cw_string(struct cw *w, const char *key, const char *value)
{
        cw_key(w, key);
        cw_quoted(w, value);
}

static void cw_bool(struct cw *w, const char *key, bool value)
{
        cw_key(w, key);
        cw_put(w, value ? "true" : "false", value ? 4 : 5);
}

static void cw_int(struct cw *w, const char *key, long long value)
{
        cw_key(w, key);
        if (w->r == 0)
                w->r = buf_printf(&w->b, "%lld", value);
}

/* key: [...]; NULL is the empty list. */
static void cw_strlist(struct cw *w, const char *key, const struct strlist *l)
{
        cw_open(w, key, '[');
        for (size_t i = 0; l && i < l->n; i++)
                cw_string(w, NULL, l->v[i]);
        cw_close(w, ']');
}

/* ---- the context document ---- */

/* metadata is JSON object text (string values) from the registration:
 * embed it as an object, whatever characters its values hold. */
static void gen_metadata(struct cw *w, const char *json)
{
        yajl_val tree = json ? yajl_tree_parse(json, NULL, 0) : NULL;

        cw_open(w, "metadata", '{');
        for (size_t i = 0; YAJL_IS_OBJECT(tree) && i < tree->u.object.len; i++)
                if (YAJL_IS_STRING(tree->u.object.values[i]))
                        cw_string(w, tree->u.object.keys[i],
                                  YAJL_GET_STRING(tree->u.object.values[i]));
        cw_close(w, '}');
        yajl_tree_free(tree);
}

/* One authorization as an object. notify_too adds the addresses of a
 * second one: a correction's contacts are those of both authorizations,
 * so that include_authorization_contacts reaches everyone it concerns. */
static void gen_authorization(struct cw *w, const char *key, const struct authorization *a,
                              const struct authorization *notify_too)
{
        struct strlist both = { 0 };
        bool ok = true;

        for (size_t i = 0; a && i < a->notify.n; i++)
                ok = ok && strlist_add_unique(&both, a->notify.v[i]) == 0;
        for (size_t i = 0; notify_too && i < notify_too->notify.n; i++)
                ok = ok && strlist_add_unique(&both, notify_too->notify.v[i]) == 0;
        cw_open(w, key, '{');
        cw_string(w, "id", a ? a->id : NULL);
        cw_string(w, "name", a ? a->name : NULL);
        cw_string(w, "buyer_company_name", a ? a->buyer_company_name : NULL);
        gen_metadata(w, a ? a->metadata_json : NULL);
        /* on ENOMEM the list is short; corr_context_json then fails as a whole
         * when the writer does, and a partial list is never worse than none */
        cw_strlist(w, "notify", ok ? &both : a ? &a->notify : NULL);
        cw_bool(w, "registered", a && a->registered);
        cw_string(w, "expires_at", a ? a->expires_at : NULL);
        if (a && a->aws_status) /* only when synced: older documents keep their shape */
                cw_string(w, "aws_status", a->aws_status);
        cw_close(w, '}');
        strlist_clear(&both);
}

static void gen_opportunity(struct cw *w, const struct corr_subject *sj)
{
        const struct authorization *prev = sj->correction ? sj->correction->previous : NULL;

        gen_authorization(w, "opportunity", sj->auth, prev);
}

/* link_corrected: the authorization it was wrongly linked to, both as one
 * list (a rule on `opportunities` matches either, EventBridge array
 * semantics), and who moved it, when and why. */
static void gen_correction(struct cw *w, const struct corr_subject *sj)
{
        const struct corr_correction *c = sj->correction;
        const struct link_change *lc = c->change;

        gen_authorization(w, "previous_opportunity", c->previous, sj->auth);
        cw_open(w, "opportunities", '[');
        if (c->previous)
                gen_authorization(w, NULL, c->previous, NULL);
        if (sj->auth)
                gen_authorization(w, NULL, sj->auth, NULL);
        cw_close(w, ']');
        cw_open(w, "correction", '{');
        cw_int(w, "seq", c->seq);
        cw_string(w, "previous_opportunity_id", lc->from_authorization_id);
        cw_string(w, "opportunity_id", lc->to_authorization_id);
        cw_string(w, "previous_link", link_strength_name(lc->from_link));
        cw_string(w, "actor", lc->actor);
        cw_string(w, "reason", lc->reason);
        cw_close(w, '}');
}

static void gen_parties(struct cw *w, const struct corr_subject *sj)
{
        const struct offer *o = sj->offer;
        const struct agreement *ag = sj->agreement;
        const struct authorization *a = sj->auth;
        struct strlist acceptor = { 0 };
        char *one[1];

        cw_open(w, "partner", '{');
        cw_string(w, "account_id",
                  o && o->seller_of_record_account_id ? o->seller_of_record_account_id
                  : ag                                ? ag->proposer_account_id
                  : a                                 ? a->reseller_account_id
                                                      : NULL);
        cw_string(w, "name",
                  o && o->seller_of_record_name ? o->seller_of_record_name
                  : a                           ? a->reseller_name
                                                : NULL);
        cw_close(w, '}');
        cw_open(w, "buyer", '{');
        if (ag && ag->acceptor_account_id) {
                one[0] = ag->acceptor_account_id;
                acceptor.v = one;
                acceptor.n = 1;
                cw_strlist(w, "account_ids", &acceptor);
        } else {
                cw_strlist(w, "account_ids",
                           o && o->targeted_buyer_account_ids.n ? &o->targeted_buyer_account_ids
                           : a                                  ? &a->buyer_account_ids
                                                                : NULL);
        }
        cw_close(w, '}');
        cw_open(w, "product", '{');
        cw_string(w, "id",
                  o && o->product_id     ? o->product_id
                  : ag && ag->product_id ? ag->product_id
                  : a                    ? a->product_id
                                         : NULL);
        cw_string(w, "title",
                  o && o->product_title ? o->product_title
                  : a                   ? a->product_title
                                        : NULL);
        cw_close(w, '}');
}

static void gen_deal(struct cw *w, const struct corr_subject *sj)
{
        const struct offer *o = sj->offer;
        const struct agreement *ag = sj->agreement;

        cw_open(w, "offer", '{');
        cw_string(w, "id", o ? o->id : ag ? ag->offer_id : NULL);
        cw_string(w, "name", o ? o->name : NULL);
        cw_string(w, "expiration", o ? o->expiration : NULL);
        cw_string(w, "link", o ? link_strength_name(o->link) : NULL);
        cw_bool(w, "late", o && o->late);
        cw_string(w, "late_reason",
                  !o || !o->late                           ? NULL
                  : o->late == OFFER_LATE_AFTER_ACCEPTANCE ? "after_acceptance"
                                                           : "after_hold");
        cw_close(w, '}');
        cw_open(w, "agreement", '{');
        cw_string(w, "id", ag ? ag->id : NULL);
        cw_string(w, "intent", ag ? ag->intent : NULL);
        cw_string(w, "status", ag ? ag->status : NULL);
        cw_string(w, "acceptance_time", ag ? ag->acceptance_time : NULL);
        cw_string(w, "start_time", ag ? ag->start_time : NULL);
        cw_string(w, "end_time", ag ? ag->end_time : NULL);
        cw_string(w, "previous_agreement_id", ag ? ag->previous_agreement_id : NULL);
        cw_bool(w, "renewal", sj->renewal);
        cw_close(w, '}');
}

char *corr_context_json(const struct corr_subject *sj, const char *event_key)
{
        struct cw w = { BUF_INIT(CONTEXT_MAX), 0, true };
        struct strlist keys = { 0 };
        char *one[1] = { (char *)event_key };

        w.r = buf_reserve(&w.b, 2048); /* most contexts fit: few reallocations */
        cw_open(&w, NULL, '{');
        cw_string(&w, "kind", sj->kind);
        cw_string(&w, "key", sj->key);
        gen_opportunity(&w, sj);
        gen_parties(&w, sj);
        gen_deal(&w, sj);
        if (sj->correction)
                gen_correction(&w, sj);
        cw_string(&w, "reason", sj->reason);
        keys.v = one;
        keys.n = event_key ? 1 : 0;
        cw_strlist(&w, "source_event_keys", &keys);
        cw_close(&w, '}');
        if (w.r == 0)
                return buf_steal(&w.b);
        buf_deinit(&w.b);
        return NULL;
}
