/* Unit tests: the CPPO core, table-driven over event orderings. */
#undef NDEBUG
#include "cppo/correlate.h"

#include "cppo/error.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include <cmocka.h>

#define ISV     "111122223333"
#define PARTNER "444455556666"
#define BUYER   "777788889999"

enum ev_id { REG, OR, CM, CP, DUP, N_EVENTS };

static void set(struct mp_event *ev, const char **field, const char *v)
{
        *field = v ? mp_event_strdup(ev, v) : NULL;
}

static void offer_released(struct mp_event *ev, const char *account, const char *offer,
                           const char *rid)
{
        ev->kind = MP_OFFER_RELEASED;
        set(ev, &ev->account, account);
        set(ev, &ev->offer_id, offer);
        set(ev, &ev->product_id, "prod-1");
        set(ev, &ev->manufacturer_account_id, ISV);
        set(ev, &ev->seller_of_record_account_id, PARTNER);
        set(ev, &ev->seller_of_record_name, "Partner Co");
        ev->targeted_buyer_account_ids[0] = mp_event_strdup(ev, BUYER);
        ev->n_targeted_buyer_account_ids = 1;
        snprintf(ev->event_key, sizeof ev->event_key, "%s|Offer Released|%s", account, rid);
}

static void registration(struct mp_event *ev, const char *ra, const char *offer_named)
{
        ev->kind = MP_REGISTRATION_REGISTERED;
        set(ev, &ev->resale_authorization_id, ra);
        set(ev, &ev->product_id, "prod-1");
        set(ev, &ev->reg.name, "Contoso 12m");
        set(ev, &ev->reg.reseller_account_id, PARTNER);
        set(ev, &ev->reg.buyer_company_name, "Contoso Bank");
        set(ev, &ev->reg.metadata_json, "{\"crm\":\"OPP-1\",\"quote\":\"say \\\"hi\\\"\"}");
        ev->reg.buyer_account_ids[0] = mp_event_strdup(ev, BUYER);
        ev->reg.n_buyer_account_ids = 1;
        if (offer_named) {
                ev->reg.offer_ids[0] = mp_event_strdup(ev, offer_named);
                ev->reg.n_offer_ids = 1;
        }
        snprintf(ev->event_key, sizeof ev->event_key, "id:reg-%s", ra);
}

static void agreement(struct mp_event *ev, enum mp_kind kind, enum mp_role role, const char *agmt,
                      const char *intent, const char *status, const char *ra, const char *offer,
                      const char *time)
{
        ev->kind = kind;
        ev->role = role;
        set(ev, &ev->account, role == MP_ROLE_MANUFACTURER ? ISV : PARTNER);
        set(ev, &ev->agreement_id, agmt);
        set(ev, &ev->intent, intent);
        set(ev, &ev->status, status);
        set(ev, &ev->resale_authorization_id, ra);
        set(ev, &ev->offer_id, offer);
        set(ev, &ev->acceptor_account_id, BUYER);
        set(ev, &ev->proposer_account_id, PARTNER);
        set(ev, &ev->time, time);
        snprintf(ev->event_key, sizeof ev->event_key, "%s|%s|%s|%s|%d", ev->account, agmt,
                 intent ? intent : "-", status ? status : "-", (int)kind);
}

static void make_deal(struct mp_event ev[N_EVENTS])
{
        for (int i = 0; i < N_EVENTS; i++)
                mp_event_init(&ev[i]);
        registration(&ev[REG], "ra-1", NULL);
        offer_released(&ev[OR], ISV, "offer-1", "r-isv");
        agreement(&ev[CM], MP_AGREEMENT_CREATED, MP_ROLE_MANUFACTURER, "agmt-1", "NEW", "ACTIVE",
                  "ra-1", "offer-1", "2025-03-12T16:04:51Z");
        agreement(&ev[CP], MP_AGREEMENT_CREATED, MP_ROLE_PROPOSER, "agmt-1", "NEW", "ACTIVE",
                  "ra-1", "offer-1", "2025-03-12T16:04:51Z");
        offer_released(&ev[DUP], PARTNER, "offer-1", "r-partner");
}

/* What a run produced: notification keys and late flags, in order. */
struct outcome {
        int n;
        char keys[16][128];
        bool late[16];
};

static void collect(struct changeset *cs, struct outcome *out)
{
        for (size_t i = 0; i < cs->n_notifications && out->n < 16; i++) {
                snprintf(out->keys[out->n], sizeof out->keys[0], "%s", cs->notifications[i].key);
                out->late[out->n++] = cs->notifications[i].late;
        }
        changeset_clear(cs);
}

static int find(const struct outcome *o, const char *key)
{
        for (int i = 0; i < o->n; i++)
                if (strcmp(o->keys[i], key) == 0)
                        return i;
        return -1;
}

static void run(const int *order, int n, struct mp_event *ev, const struct corr_options *opt,
                struct outcome *out)
{
        struct corr_state *s = NULL;
        struct changeset cs = { 0 };

        memset(out, 0, sizeof *out);
        assert_int_equal(corr_state_new(&s), 0);
        for (int i = 0; i < n; i++) {
                assert_int_equal(corr_apply(s, opt, &ev[order[i]], 1741795491 + i, &cs), 0);
                collect(&cs, out);
        }
        corr_state_free(s);
}

static int pos(const int *order, int id)
{
        for (int i = 0; i < N_EVENTS; i++)
                if (order[i] == id)
                        return i;
        return -1;
}

/* The documented rules, restated independently of the implementation. */
static void check_ordering(const int *order, const struct outcome *o, bool extended_after)
{
        int first_or = pos(order, OR) < pos(order, DUP) ? pos(order, OR) : pos(order, DUP);
        int created = pos(order, CM) < pos(order, CP) ? pos(order, CM) : pos(order, CP);
        int reg = pos(order, REG);
        int no = find(o, "new_order/agmt-1"), poe = find(o, "partner_offer_extended/offer-1");
        bool held = first_or < created && reg > first_or; /* released with no link yet */
        bool late = created < first_or || held;

        assert_true(no >= 0);
        assert_int_equal(o->late[no], late);
        if (first_or < created || extended_after) {
                assert_true(poe >= 0);
                assert_int_equal(o->late[poe], late);
                assert_int_equal(o->n, 2);
        } else {
                assert_int_equal(poe, -1);
                assert_int_equal(o->n, 1);
        }
}

static bool next_permutation(int *a, int n)
{
        int i = n - 2, j = n - 1;

        while (i >= 0 && a[i] >= a[i + 1])
                i--;
        if (i < 0)
                return false;
        while (a[j] <= a[i])
                j--;
        int t = a[i];
        a[i] = a[j];
        a[j] = t;
        for (int l = i + 1, r = n - 1; l < r; l++, r--) {
                t = a[l];
                a[l] = a[r];
                a[r] = t;
        }
        return true;
}

static void every_ordering_of_one_deal(void **state)
{
        struct mp_event ev[N_EVENTS];
        struct corr_options opt = corr_options_default();
        int order[N_EVENTS] = { 0, 1, 2, 3, 4 }, count = 0;
        struct outcome o;

        make_deal(ev);
        for (int pass = 0; pass < 2; pass++) {
                opt.notify_extended_after_acceptance = pass == 1;
                do {
                        run(order, N_EVENTS, ev, &opt, &o);
                        check_ordering(order, &o, pass == 1);
                        count++;
                } while (next_permutation(order, N_EVENTS));
                for (int i = 0; i < N_EVENTS; i++)
                        order[i] = i;
        }
        assert_int_equal(count, 240);
        for (int i = 0; i < N_EVENTS; i++)
                mp_event_deinit(&ev[i]);
}

/* ---- scenarios ---- */

struct world {
        struct corr_state *s;
        struct corr_options opt;
        struct changeset cs;
        struct outcome o;
        int64_t now;
};

static void w_init(struct world *w)
{
        memset(w, 0, sizeof *w);
        w->opt = corr_options_default();
        w->now = 1741795491;
        assert_int_equal(corr_state_new(&w->s), 0);
}

static void w_apply(struct world *w, struct mp_event *ev)
{
        assert_int_equal(corr_apply(w->s, &w->opt, ev, w->now++, &w->cs), 0);
        collect(&w->cs, &w->o);
        mp_event_deinit(ev);
        mp_event_init(ev);
}

static void w_free(struct world *w)
{
        changeset_clear(&w->cs);
        corr_state_free(w->s);
}

static yajl_val context_of(struct world *w, const char *key, struct changeset *cs)
{
        for (size_t i = 0; i < cs->n_notifications; i++)
                if (strcmp(cs->notifications[i].key, key) == 0)
                        return yajl_tree_parse(cs->notifications[i].context_json, NULL, 0);
        return NULL;
}

static const char *path_str(yajl_val v, const char *a, const char *b)
{
        const char *p[] = { a, b, NULL };
        return YAJL_GET_STRING(yajl_tree_get(v, p, yajl_t_string));
}

static void context_holds_what_a_human_needs(void **state)
{
        struct world w;
        struct mp_event ev;
        yajl_val ctx;

        w_init(&w);
        mp_event_init(&ev);
        registration(&ev, "ra-1", NULL);
        assert_int_equal(corr_apply(w.s, &w.opt, &ev, w.now, &w.cs), 0);
        changeset_clear(&w.cs);
        mp_event_deinit(&ev);
        mp_event_init(&ev);
        offer_released(&ev, ISV, "offer-1", "r");
        assert_int_equal(corr_apply(w.s, &w.opt, &ev, w.now, &w.cs), 0);
        ctx = context_of(&w, "partner_offer_extended/offer-1", &w.cs);
        assert_non_null(ctx);
        assert_string_equal(path_str(ctx, "kind", NULL), "partner_offer_extended");
        assert_string_equal(path_str(ctx, "opportunity", "id"), "ra-1");
        assert_string_equal(path_str(ctx, "opportunity", "buyer_company_name"), "Contoso Bank");
        const char *meta[] = { "opportunity", "metadata", "quote", NULL };
        assert_string_equal(YAJL_GET_STRING(yajl_tree_get(ctx, meta, yajl_t_string)), "say \"hi\"");
        assert_string_equal(path_str(ctx, "partner", "account_id"), PARTNER);
        assert_string_equal(path_str(ctx, "partner", "name"), "Partner Co");
        assert_string_equal(path_str(ctx, "offer", "link"), "inferred");
        assert_string_equal(path_str(ctx, "product", "id"), "prod-1");
        const char *registered[] = { "opportunity", "registered", NULL };
        assert_true(YAJL_IS_TRUE(yajl_tree_get(ctx, registered, yajl_t_true)));
        yajl_tree_free(ctx);
        mp_event_deinit(&ev);
        w_free(&w);
}

/* yajl_gen's text for a parsed document, member order kept. */
static void regen(yajl_gen g, yajl_val v)
{
        if (YAJL_IS_OBJECT(v)) {
                yajl_gen_map_open(g);
                for (size_t i = 0; i < v->u.object.len; i++) {
                        const char *k = v->u.object.keys[i];

                        yajl_gen_string(g, (const unsigned char *)k, strlen(k));
                        regen(g, v->u.object.values[i]);
                }
                yajl_gen_map_close(g);
        } else if (YAJL_IS_ARRAY(v)) {
                yajl_gen_array_open(g);
                for (size_t i = 0; i < v->u.array.len; i++)
                        regen(g, v->u.array.values[i]);
                yajl_gen_array_close(g);
        } else if (YAJL_IS_STRING(v)) {
                yajl_gen_string(g, (const unsigned char *)v->u.string, strlen(v->u.string));
        } else if (YAJL_IS_NUMBER(v)) {
                yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r));
        } else if (YAJL_IS_NULL(v)) {
                yajl_gen_null(g);
        } else {
                yajl_gen_bool(g, YAJL_IS_TRUE(v));
        }
}

/* text is byte for byte what yajl_gen writes for the document it holds. */
static void assert_written_as_yajl_would(const char *text)
{
        yajl_val doc = yajl_tree_parse(text, NULL, 0);
        yajl_gen g = yajl_gen_alloc(NULL);
        const unsigned char *want;
        size_t len;

        assert_non_null(doc);
        assert_non_null(g);
        regen(g, doc);
        assert_int_equal(yajl_gen_get_buf(g, &want, &len), yajl_gen_status_ok);
        assert_string_equal(text, (const char *)want);
        yajl_gen_free(g);
        yajl_tree_free(doc);
}

/* The context is written by corr_context.c's own writer: its text must be
 * byte for byte what yajl_gen wrote for the same document (stored contexts
 * and their comparison across versions depend on it), whatever bytes the
 * strings hold: every control byte, quote, backslash, solidus, DEL and
 * multi-byte UTF-8. */
static void context_text_is_what_yajl_writes(void **state)
{
        char odd[160], meta[400], runs[200];
        size_t n = 0, m = 0;
        struct world w;
        struct mp_event ev;

        for (int c = 1; c < 128; c++)
                odd[n++] = (char)c;
        memcpy(odd + n, "\xc3\x96\xe2\x82\xac", 6);
        snprintf(meta, sizeof meta, "%s",
                 "{\"a\\u0001\\u001f\":\"\\b\\f\\n\\r\\t\\\"\\\\\\/\\u007f\\u00d6\",\"n\":\"\"}");
        w_init(&w);
        mp_event_init(&ev);
        registration(&ev, "ra-1", NULL);
        set(&ev, &ev.reg.name, odd);
        /* a byte to escape at every place of an 8-byte word, after runs */
        for (int k = 0; k < 17; k++) {
                memset(runs + m, 'a' + k, (size_t)k);
                m += (size_t)k;
                runs[m++] = "\"\\\n\x01"[k % 4];
        }
        runs[m] = '\0';
        set(&ev, &ev.reg.buyer_company_name, runs);
        set(&ev, &ev.reg.metadata_json, meta);
        w_apply(&w, &ev);
        offer_released(&ev, ISV, "offer-1", odd);
        changeset_clear(&w.cs);
        assert_int_equal(corr_apply(w.s, &w.opt, &ev, w.now, &w.cs), 0);
        assert_true(w.cs.n_notifications > 0);
        for (size_t i = 0; i < w.cs.n_notifications; i++) {
                assert_written_as_yajl_would(w.cs.notifications[i].context_json);
                assert_non_null(strstr(w.cs.notifications[i].context_json, "\\u001F"));
        }
        mp_event_deinit(&ev);
        w_free(&w);
}

static void state_reloaded_from_records_emits_nothing_twice(void **state)
{
        struct world w;
        struct mp_event ev;
        struct authorization a = { 0 };

        w_init(&w);
        mp_event_init(&ev);
        assert_int_equal(corr_state_put_notification_key(w.s, "new_order/agmt-1"), 0);
        assert_int_equal(str_assign(&a.id, "ra-1"), 0);
        a.registered = true;
        assert_int_equal(corr_state_put_authorization(w.s, &a), 0);
        agreement(&ev, MP_AGREEMENT_CREATED, MP_ROLE_MANUFACTURER, "agmt-1", "NEW", "ACTIVE",
                  "ra-1", "offer-1", "2025-03-12T00:00:00Z");
        w_apply(&w, &ev);
        assert_int_equal(w.o.n, 0);
        assert_true(corr_state_authorization(w.s, "ra-1")->registered);
        authorization_clear(&a);
        mp_event_deinit(&ev);
        w_free(&w);
}

/* ---- the acceptance list as a table ----
 *
 * Each row: a sequence of steps on one fresh state, the notifications it
 * must give, in order, with late, registered and renewal flags, and what
 * the state must hold after given steps. The rows restate issue 4's list:
 * REPLACE with Ended REPLACED in both orders, RENEW, AMEND twice, Ended
 * before Created, Amended after Ended, two authorizations for the same
 * partner and product, hold timeout, manual association releasing a hold,
 * unregistered authorization, direct deals; and issue 11's link
 * corrections. One source of truth: a scenario of that list is a row here,
 * not a test of its own. */

enum op { END = 0, REGISTER, WITHDRAW, RELEASE, CREATED, AMENDED, ENDED, ASSOCIATE, UNLINK, TICK };

struct table_step {
        enum op op;
        const char *ra;    /* REGISTER, WITHDRAW, ASSOCIATE, agreements (NULL: direct) */
        const char *offer; /* RELEASE, ASSOCIATE, agreements; REGISTER: an offer it names */
        const char *agmt, *intent, *status, *time; /* agreements */
        int hours;                                 /* TICK: clock = first step + hours */
        bool force;                                /* ASSOCIATE, UNLINK: --force */
};

/* What must hold after step `after`; NULL and 0 fields are not checked,
 * flags are 'y' or 'n'. */
struct table_expect {
        int after;
        bool quiet;           /* that step told nobody */
        const char *offer;    /* checks on this offer: */
        char held, attention; /* a hold, with attention_needed sent */
        const char *auth;     /* its authorization ("-": none) */
        const char *link;     /* its link strength */
        const char *agmt;     /* this agreement exists, and: */
        const char *status, *previous;
        const char *ra; /* this authorization exists, and: */
        char registered;
        const char *ra_offer; /* among its offers */
};

struct table_row {
        const char *name;
        struct table_step steps[8];
        const char *keys[6]; /* expected, in order */
        const char *late;    /* one 'y'/'n' per key */
        const char *registered;
        const char *renewal;
        struct table_expect expect[3]; /* unused entries: all zero */
        bool direct_deals;             /* notify_direct_deals */
};

#define T_AGMT(k, r, o, g, i, st, t)                                                               \
        {                                                                                          \
                .op = k, .ra = r, .offer = o, .agmt = g, .intent = i, .status = st, .time = t      \
        }
#define T_REG(r, o)                                                                                \
        {                                                                                          \
                .op = REGISTER, .ra = r, .offer = o                                                \
        }
#define T_WITHDRAW(r)                                                                              \
        {                                                                                          \
                .op = WITHDRAW, .ra = r                                                            \
        }
#define T_RELEASE(o)                                                                               \
        {                                                                                          \
                .op = RELEASE, .offer = o                                                          \
        }
#define T_ASSOC(r, o)                                                                              \
        {                                                                                          \
                .op = ASSOCIATE, .ra = r, .offer = o                                               \
        }
#define T_TICK(h)                                                                                  \
        {                                                                                          \
                .op = TICK, .hours = h                                                             \
        }
#define T_FORCE_ASSOC(r, o)                                                                        \
        {                                                                                          \
                .op = ASSOCIATE, .ra = r, .offer = o, .force = true                                \
        }
#define T_UNLINK(o)                                                                                \
        {                                                                                          \
                .op = UNLINK, .offer = o                                                           \
        }
#define T_FORCE_UNLINK(o)                                                                          \
        {                                                                                          \
                .op = UNLINK, .offer = o, .force = true                                            \
        }
#define T_NEW(r, o, g) T_AGMT(CREATED, r, o, g, "NEW", "ACTIVE", "2025-03-12T00:00:00Z")
/* A row whose notifications say it all (and, designated, no field left out). */
#define NO_STATE .expect = { { 0 } }

static const struct table_row table[] = {
        { "REPLACE, then the old one Ended REPLACED",
          { T_AGMT(CREATED, "ra-1", "offer-2", "agmt-2", "REPLACE", "ACTIVE",
                   "2025-09-02T10:41:17Z"),
            T_AGMT(ENDED, "ra-1", "offer-1", "agmt-1", NULL, "REPLACED", "2025-09-02T10:41:19Z") },
          { "amended_offer/agmt-2" },
          "y",
          "n",
          "n",
          .expect = { { .after = 1, .agmt = "agmt-1", .status = "REPLACED" } } },
        { "Ended REPLACED, then the REPLACE",
          { T_AGMT(ENDED, "ra-1", "offer-1", "agmt-1", NULL, "REPLACED", "2025-09-02T10:41:19Z"),
            T_AGMT(CREATED, "ra-1", "offer-2", "agmt-2", "REPLACE", "ACTIVE",
                   "2025-09-02T10:41:17Z") },
          { "amended_offer/agmt-2" },
          "y",
          "n",
          "n",
          .expect = { { .after = 1, .agmt = "agmt-1", .status = "REPLACED" } } },
        { "a whole NEW deal replaced: no order_ended for the old agreement",
          { T_REG("ra-1", "offer-1"),
            T_AGMT(CREATED, "ra-1", "offer-1", "agmt-1", "NEW", "ACTIVE", "2025-03-12T00:00:00Z"),
            T_AGMT(ENDED, "ra-1", "offer-1", "agmt-1", NULL, "REPLACED", "2025-09-02T10:41:19Z"),
            T_AGMT(CREATED, "ra-1", "offer-2", "agmt-2", "REPLACE", "ACTIVE",
                   "2025-09-02T10:41:17Z") },
          /* offer-2 was never released before its acceptance: late */
          { "new_order/agmt-1", "amended_offer/agmt-2" },
          "ny",
          "yy",
          "nn",
          NO_STATE },
        { "RENEW is a new_order with renewal; Ended RENEWED says nothing; AMEND once per change",
          { T_AGMT(CREATED, "ra-1", "offer-3", "agmt-3", "RENEW", "ACTIVE", "2026-09-02T00:00:41Z"),
            T_AGMT(ENDED, "ra-1", "offer-2", "agmt-2", NULL, "RENEWED", "2026-09-02T00:00:42Z"),
            T_AGMT(AMENDED, "ra-1", "offer-3", "agmt-3", "AMEND", "ACTIVE", "2026-10-01T00:00:00Z"),
            T_AGMT(AMENDED, "ra-1", "offer-3", "agmt-3", "AMEND", "ACTIVE", "2026-10-01T00:00:00Z"),
            T_AGMT(AMENDED, "ra-1", "offer-3", "agmt-3", "AMEND", "ACTIVE",
                   "2026-11-01T00:00:00Z") },
          { "new_order/agmt-3", "amended_offer/agmt-3/2026-10-01T00:00:00Z",
            "amended_offer/agmt-3/2026-11-01T00:00:00Z" },
          "yyy",
          "nnn",
          "ynn",
          .expect = { { .after = 4, .agmt = "agmt-3", .previous = "agmt-2" } } },
        { "AMEND twice, each change in both role copies",
          { T_AGMT(CREATED, "ra-1", "offer-1", "agmt-1", "NEW", "ACTIVE", "2025-03-12T00:00:00Z"),
            T_AGMT(AMENDED, "ra-1", "offer-1", "agmt-1", "AMEND", "ACTIVE", "2025-06-18T08:22:03Z"),
            T_AGMT(AMENDED, "ra-1", "offer-1", "agmt-1", "AMEND", "ACTIVE", "2025-06-18T08:22:03Z"),
            T_AGMT(AMENDED, "ra-1", "offer-1", "agmt-1", "AMEND", "ACTIVE",
                   "2025-07-01T00:00:00Z") },
          { "new_order/agmt-1", "amended_offer/agmt-1/2025-06-18T08:22:03Z",
            "amended_offer/agmt-1/2025-07-01T00:00:00Z" },
          "yyy",
          "nnn",
          "nnn",
          NO_STATE },
        { "Ended before Created: both told, a later amendment not, the end state kept",
          { T_AGMT(ENDED, "ra-1", "offer-1", "agmt-1", NULL, "CANCELLED", "2025-04-02T00:00:00Z"),
            T_AGMT(CREATED, "ra-1", "offer-1", "agmt-1", "NEW", "ACTIVE", "2025-03-12T00:00:00Z"),
            T_AGMT(AMENDED, "ra-1", "offer-1", "agmt-1", "AMEND", "ACTIVE",
                   "2025-03-20T00:00:00Z") },
          { "order_ended/agmt-1", "new_order/agmt-1" },
          "yy",
          "nn",
          "nn",
          .expect = { { .after = 2, .agmt = "agmt-1", .status = "CANCELLED" } } },
        { "Amended after Ended: recorded, not told",
          { T_AGMT(CREATED, "ra-1", "offer-1", "agmt-1", "NEW", "ACTIVE", "2025-03-12T00:00:00Z"),
            T_AGMT(ENDED, "ra-1", "offer-1", "agmt-1", NULL, "EXPIRED", "2026-03-12T00:00:00Z"),
            T_AGMT(AMENDED, "ra-1", "offer-1", "agmt-1", "AMEND", "ACTIVE",
                   "2026-04-01T00:00:00Z") },
          { "new_order/agmt-1", "order_ended/agmt-1" },
          "yy",
          "nn",
          "nn",
          NO_STATE },
        { "one authorization for the partner and product: inferred, on time",
          { T_REG("ra-a", NULL), T_RELEASE("offer-9") },
          { "partner_offer_extended/offer-9" },
          "n",
          "y",
          "n",
          NO_STATE },
        { "two authorizations for the same partner and product: ambiguous, held",
          { T_REG("ra-a", NULL), T_REG("ra-b", NULL), T_RELEASE("offer-9") },
          { NULL },
          "",
          "",
          "",
          .expect = { { .after = 2,
                        .offer = "offer-9",
                        .held = 'y',
                        .attention = 'n',
                        .auth = "-" } } },
        { "ambiguous, then a manual association releases the hold, late",
          { T_REG("ra-a", NULL), T_REG("ra-b", NULL), T_RELEASE("offer-9"),
            T_ASSOC("ra-b", "offer-9"),
            T_AGMT(CREATED, "ra-b", "offer-9", "agmt-9", "NEW", "ACTIVE", "2025-03-12T00:00:00Z") },
          { "partner_offer_extended/offer-9", "new_order/agmt-9" },
          "yy",
          "yy",
          "nn",
          .expect = { { .after = 2, .quiet = true, .offer = "offer-9", .held = 'y' },
                      { .after = 3,
                        .offer = "offer-9",
                        .held = 'n',
                        .auth = "ra-b",
                        .link = "manual" },
                      { .after = 4, .offer = "offer-9", .auth = "ra-b", .link = "event" } } },
        { "a registration after the release makes the inference unique: late",
          { T_RELEASE("offer-9"), T_REG("ra-a", NULL) },
          { "partner_offer_extended/offer-9" },
          "y",
          "y",
          "n",
          NO_STATE },
        { "a registration naming the offer links it on time",
          { T_REG("ra-a", "offer-9"), T_REG("ra-b", NULL), T_RELEASE("offer-9") },
          { "partner_offer_extended/offer-9" },
          "n",
          "y",
          "n",
          NO_STATE },
        { "ambiguous, then one is withdrawn: the other is inferred, late",
          { T_REG("ra-a", NULL), T_REG("ra-b", NULL), T_RELEASE("offer-9"), T_WITHDRAW("ra-a") },
          { "partner_offer_extended/offer-9" },
          "y",
          "y",
          "n",
          NO_STATE },
        { "a withdrawn authorization is not inferred",
          { T_REG("ra-a", NULL), T_WITHDRAW("ra-a"), T_RELEASE("offer-9") },
          { NULL },
          "",
          "",
          "",
          NO_STATE },
        { "hold timeout: attention_needed once, then a manual association releases it",
          { T_RELEASE("offer-5"), T_TICK(71), T_TICK(73), T_TICK(200), T_ASSOC("ra-1", "offer-5"),
            T_TICK(300) },
          { "attention_needed/offer-5", "partner_offer_extended/offer-5" },
          "ny",
          "nn",
          "nn",
          .expect = { { .after = 1,
                        .quiet = true,
                        .offer = "offer-5",
                        .held = 'y',
                        .attention = 'n' },
                      { .after = 2, .offer = "offer-5", .held = 'y', .attention = 'y' },
                      { .after = 3, .quiet = true } } },
        { "unregistered authorization: told, registered false, until it is registered",
          { T_AGMT(CREATED, "ra-x", "offer-6", "agmt-6", "NEW", "ACTIVE", "2025-03-12T00:00:00Z"),
            T_REG("ra-x", NULL),
            T_AGMT(AMENDED, "ra-x", "offer-6", "agmt-6", "AMEND", "ACTIVE",
                   "2025-06-18T08:22:03Z") },
          { "new_order/agmt-6", "amended_offer/agmt-6/2025-06-18T08:22:03Z" },
          "yy",
          "ny",
          "nn",
          .expect = { { .after = 0, .ra = "ra-x", .registered = 'n', .ra_offer = "offer-6" },
                      { .after = 1, .ra = "ra-x", .registered = 'y', .ra_offer = "offer-6" } } },
        { "direct deal: recorded, not told",
          { T_AGMT(CREATED, NULL, "offer-7", "agmt-7", "NEW", "ACTIVE", "2025-03-12T00:00:00Z") },
          { NULL },
          "",
          "",
          "",
          .expect = { { .after = 0, .agmt = "agmt-7", .status = "ACTIVE" } } },
        { "direct deal with notify_direct_deals: told",
          { T_AGMT(CREATED, NULL, "offer-8", "agmt-8", "NEW", "ACTIVE", "2025-03-12T00:00:00Z") },
          { "new_order/agmt-8" },
          "y",
          "n",
          "n",
          .direct_deals = true },
        /* ---- correcting links (issue 11, item 2) ---- */
        { "associate onto another authorization moves an inferred link: a correction",
          { T_REG("ra-a", NULL), T_RELEASE("offer-9"), T_REG("ra-b", NULL),
            T_ASSOC("ra-b", "offer-9") },
          { "partner_offer_extended/offer-9", "link_corrected/offer-9/1" },
          "nn",
          "yy",
          "nn",
          NO_STATE },
        { "each move has its own correction key",
          { T_REG("ra-a", NULL), T_RELEASE("offer-9"), T_REG("ra-b", NULL),
            T_ASSOC("ra-b", "offer-9"), T_ASSOC("ra-a", "offer-9"), T_ASSOC("ra-a", "offer-9") },
          { "partner_offer_extended/offer-9", "link_corrected/offer-9/1",
            "link_corrected/offer-9/2" },
          "nnn",
          "yyy",
          "nnn",
          NO_STATE },
        { "a manual link moves before anyone was told: no correction",
          { T_ASSOC("ra-a", "offer-9"), T_ASSOC("ra-b", "offer-9") },
          { NULL },
          "",
          "",
          "",
          NO_STATE },
        { "associate never silently overrides an agreement event's link",
          { T_NEW("ra-a", "offer-1", "agmt-1"), T_ASSOC("ra-b", "offer-1"), T_UNLINK("offer-1") },
          { "new_order/agmt-1" },
          "y",
          "n",
          "n",
          NO_STATE },
        { "nor a registration's link",
          { T_REG("ra-a", "offer-9"), T_RELEASE("offer-9"), T_REG("ra-b", NULL),
            T_ASSOC("ra-b", "offer-9") },
          { "partner_offer_extended/offer-9" },
          "n",
          "y",
          "n",
          NO_STATE },
        { "forced, it moves an event link; the order told counts as told",
          { T_NEW("ra-a", "offer-1", "agmt-1"), T_REG("ra-b", NULL),
            T_FORCE_ASSOC("ra-b", "offer-1") },
          { "new_order/agmt-1", "link_corrected/offer-1/1" },
          "yy",
          "ny",
          "nn",
          NO_STATE },
        { "an agreement event overruling an inference is a correction too",
          { T_REG("ra-a", NULL), T_RELEASE("offer-9"), T_NEW("ra-b", "offer-9", "agmt-9") },
          { "partner_offer_extended/offer-9", "link_corrected/offer-9/1", "new_order/agmt-9" },
          "nnn",
          "ynn",
          "nnn",
          NO_STATE },
        { "unlink: back in the holds, the old side told; inference leaves it; a person relinks",
          { T_REG("ra-a", NULL), T_RELEASE("offer-9"), T_UNLINK("offer-9"), T_REG("ra-a", NULL),
            T_ASSOC("ra-a", "offer-9") },
          { "partner_offer_extended/offer-9", "link_corrected/offer-9/1",
            "link_corrected/offer-9/2" },
          "nny",
          "yny",
          "nnn",
          NO_STATE },
        { "unlink before anyone was told: held silently, then attention_needed",
          { T_ASSOC("ra-a", "offer-9"), T_UNLINK("offer-9"), T_TICK(73) },
          { "attention_needed/offer-9" },
          "n",
          "n",
          "n",
          NO_STATE },
        { "unlink of an event link only when forced",
          { T_NEW("ra-a", "offer-1", "agmt-1"), T_FORCE_UNLINK("offer-1") },
          { "new_order/agmt-1", "link_corrected/offer-1/1" },
          "yy",
          "nn",
          "nn",
          NO_STATE },
};

static void table_event(struct mp_event *ev, const struct table_step *st, int i)
{
        static const enum mp_kind kinds[] = { [CREATED] = MP_AGREEMENT_CREATED,
                                              [AMENDED] = MP_AGREEMENT_AMENDED,
                                              [ENDED] = MP_AGREEMENT_ENDED };

        switch (st->op) {
        case REGISTER:
        case WITHDRAW:
                registration(ev, st->ra, st->offer);
                if (st->op == WITHDRAW)
                        ev->kind = MP_REGISTRATION_WITHDRAWN;
                break;
        case RELEASE: offer_released(ev, ISV, st->offer, "r"); break;
        case ASSOCIATE:
        case UNLINK:
                ev->kind = st->op == ASSOCIATE ? MP_OFFER_ASSOCIATED : MP_OFFER_UNLINKED;
                set(ev, &ev->resale_authorization_id, st->ra);
                set(ev, &ev->offer_id, st->offer);
                set(ev, &ev->reg.actor, "alice");
                set(ev, &ev->reg.reason, "wrong deal");
                ev->reg.force = st->force;
                break;
        default:
                /* alternate role copies: they must not matter */
                agreement(ev, kinds[st->op], i % 2 ? MP_ROLE_PROPOSER : MP_ROLE_MANUFACTURER,
                          st->agmt, st->intent, st->status, st->ra, st->offer, st->time);
                if (st->intent && strcmp(st->intent, "RENEW") == 0)
                        set(ev, &ev->previous_agreement_id, "agmt-2");
                break;
        }
        snprintf(ev->event_key, sizeof ev->event_key, "id:step-%d", i); /* each step is new */
}

static bool context_renewal(const struct notification *n)
{
        const char *path[] = { "agreement", "renewal", NULL };
        yajl_val ctx = yajl_tree_parse(n->context_json, NULL, 0);
        bool renewal;

        assert_non_null(ctx);
        renewal = YAJL_IS_TRUE(yajl_tree_get(ctx, path, yajl_t_true));
        yajl_tree_free(ctx);
        return renewal;
}

static void check_table_notes(const struct table_row *row, const struct changeset *cs, int *k)
{
        for (size_t i = 0; i < cs->n_notifications; i++, (*k)++) {
                const struct notification *n = &cs->notifications[i];
                if (*k >= 6 || row->keys[*k] == NULL)
                        fail_msg("%s: unexpected notification %s", row->name, n->key);
                if (strcmp(n->key, row->keys[*k]) != 0)
                        fail_msg("%s: got %s, want %s", row->name, n->key, row->keys[*k]);
                if (n->late != (row->late[*k] == 'y') ||
                    n->registered != (row->registered[*k] == 'y') ||
                    context_renewal(n) != (row->renewal[*k] == 'y'))
                        fail_msg("%s: %s late=%d registered=%d renewal=%d", row->name, n->key,
                                 n->late, n->registered, context_renewal(n));
        }
}

static bool flag(char want, bool got)
{
        return want == 0 || (want == 'y') == got;
}

static bool expect_used(const struct table_expect *e)
{
        return e->quiet || e->offer || e->agmt || e->ra;
}

static void check_offer_expect(const char *row, const struct table_expect *e,
                               const struct corr_state *s)
{
        const struct offer *o = corr_state_offer(s, e->offer);
        const struct hold *h = corr_state_hold(s, e->offer);
        const char *auth = o && o->authorization_id ? o->authorization_id : "-";

        if (!flag(e->held, h != NULL) || !flag(e->attention, h && h->attention_sent))
                fail_msg("%s, step %d: %s held=%d attention=%d", row, e->after, e->offer, h != NULL,
                         h && h->attention_sent);
        if ((e->auth && strcmp(auth, e->auth) != 0) ||
            (e->link && (o == NULL || strcmp(link_strength_name(o->link), e->link) != 0)))
                fail_msg("%s, step %d: %s linked to %s (%s)", row, e->after, e->offer, auth,
                         o ? link_strength_name(o->link) : "no offer");
}

static void check_agreement_expect(const char *row, const struct table_expect *e,
                                   const struct corr_state *s)
{
        const struct agreement *g = corr_state_agreement(s, e->agmt);

        if (g == NULL)
                fail_msg("%s, step %d: no agreement %s", row, e->after, e->agmt);
        if ((e->status && (g->status == NULL || strcmp(g->status, e->status) != 0)) ||
            (e->previous && (g->previous_agreement_id == NULL ||
                             strcmp(g->previous_agreement_id, e->previous) != 0)))
                fail_msg("%s, step %d: %s status %s previous %s", row, e->after, e->agmt,
                         g->status ? g->status : "-",
                         g->previous_agreement_id ? g->previous_agreement_id : "-");
}

static void check_auth_expect(const char *row, const struct table_expect *e,
                              const struct corr_state *s)
{
        const struct authorization *a = corr_state_authorization(s, e->ra);

        if (a == NULL)
                fail_msg("%s, step %d: no authorization %s", row, e->after, e->ra);
        if (!flag(e->registered, a->registered) ||
            (e->ra_offer && !strlist_contains(&a->offer_ids, e->ra_offer)))
                fail_msg("%s, step %d: %s registered=%d offers=%zu", row, e->after, e->ra,
                         a->registered, a->offer_ids.n);
}

/* The row's expectations after step i, on the state and that step's changes. */
static void check_table_expect(const struct table_row *row, int i, const struct corr_state *s,
                               const struct changeset *cs)
{
        for (size_t j = 0; j < sizeof row->expect / sizeof row->expect[0]; j++) {
                const struct table_expect *e = &row->expect[j];
                if (e->after != i || !expect_used(e))
                        continue;
                if (e->quiet && cs->n_notifications > 0)
                        fail_msg("%s, step %d: told %s", row->name, i, cs->notifications[0].key);
                if (e->offer)
                        check_offer_expect(row->name, e, s);
                if (e->agmt)
                        check_agreement_expect(row->name, e, s);
                if (e->ra)
                        check_auth_expect(row->name, e, s);
        }
}

/* A tick stores each hold it sends attention_needed for, marked sent (a
 * restart must not send it again), and no other hold. */
static void check_tick_saves(const struct table_row *row, const struct changeset *cs)
{
        size_t sent = 0;

        for (size_t i = 0; i < cs->n_notifications; i++)
                sent += strcmp(cs->notifications[i].kind, "attention_needed") == 0;
        if (cs->n_holds != sent)
                fail_msg("%s: a tick saved %zu holds for %zu attention_needed", row->name,
                         cs->n_holds, sent);
        for (size_t i = 0; i < cs->n_holds; i++)
                if (!cs->holds[i].attention_sent)
                        fail_msg("%s: hold %s saved without attention_sent", row->name,
                                 cs->holds[i].offer_id);
}

static void table_run_row(const struct table_row *row)
{
        const int64_t t0 = 1741795491;
        struct corr_options opt = corr_options_default();
        struct corr_state *s = NULL;
        struct changeset cs = { 0 };
        int k = 0, n = 0;

        opt.notify_direct_deals = row->direct_deals;
        assert_int_equal(corr_state_new(&s), 0);
        for (int i = 0; i < 8 && row->steps[i].op != END; i++, n++) {
                const struct table_step *st = &row->steps[i];
                struct mp_event ev;
                mp_event_init(&ev);
                if (st->op == TICK) {
                        assert_int_equal(corr_tick(s, &opt, t0 + st->hours * 3600, &cs), 0);
                        check_tick_saves(row, &cs);
                } else {
                        table_event(&ev, st, i);
                        assert_int_equal(corr_apply(s, &opt, &ev, t0 + i, &cs), 0);
                }
                check_table_notes(row, &cs, &k);
                check_table_expect(row, i, s, &cs);
                changeset_clear(&cs);
                mp_event_deinit(&ev);
        }
        if (k < 6 && row->keys[k] != NULL)
                fail_msg("%s: missing %s", row->name, row->keys[k]);
        for (size_t j = 0; j < sizeof row->expect / sizeof row->expect[0]; j++)
                if (expect_used(&row->expect[j]) && row->expect[j].after >= n)
                        fail_msg("%s: an expectation after step %d, of %d", row->name,
                                 row->expect[j].after, n);
        corr_state_free(s);
}

static void acceptance_table(void **state)
{
        for (size_t r = 0; r < sizeof table / sizeof table[0]; r++)
                table_run_row(&table[r]);
}

/* Inference looks only at authorizations of the offer's product and seller
 * of record (an index): an Updated registration that moves one of two
 * candidates to another product makes the held offer's match unique, and
 * records loaded from the store are found the same way. */
static void inference_follows_updates_and_reloaded_records(void **state)
{
        struct world w, re;
        struct mp_event ev;
        struct offer held = { 0 };
        struct hold h = { 0 };

        w_init(&w);
        mp_event_init(&ev);
        registration(&ev, "ra-a", NULL);
        w_apply(&w, &ev);
        registration(&ev, "ra-b", NULL);
        w_apply(&w, &ev);
        offer_released(&ev, ISV, "offer-9", "r9");
        w_apply(&w, &ev);
        assert_non_null(corr_state_hold(w.s, "offer-9")); /* ambiguous */
        registration(&ev, "ra-b", NULL);
        ev.kind = MP_REGISTRATION_UPDATED;
        set(&ev, &ev.product_id, "prod-2");
        snprintf(ev.event_key, sizeof ev.event_key, "id:upd-ra-b");
        w_apply(&w, &ev);
        assert_int_equal(w.o.n, 1);
        assert_string_equal(w.o.keys[0], "partner_offer_extended/offer-9");
        assert_true(w.o.late[0]);
        assert_string_equal(corr_state_offer(w.s, "offer-9")->authorization_id, "ra-a");
        assert_int_equal(corr_state_offer(w.s, "offer-9")->link, LINK_INFERRED);

        /* a fresh state from records: ra-a, and a held offer of its sale */
        w_init(&re);
        assert_int_equal(corr_state_put_authorization(re.s, corr_state_authorization(w.s, "ra-a")),
                         0);
        assert_int_equal(offer_copy(&held, corr_state_offer(w.s, "offer-9")), 0);
        assert_int_equal(str_assign(&held.id, "offer-11"), 0);
        assert_int_equal(str_assign(&held.authorization_id, NULL), 0);
        held.link = LINK_NONE;
        assert_int_equal(corr_state_put_offer(re.s, &held), 0);
        assert_int_equal(str_assign(&h.offer_id, "offer-11"), 0);
        h.deadline = re.now + 3600;
        assert_int_equal(corr_state_put_hold(re.s, &h), 0);
        offer_released(&ev, ISV, "offer-10", "r10");
        w_apply(&re, &ev); /* the loaded authorization is its only match */
        assert_int_equal(re.o.n, 1);
        assert_string_equal(re.o.keys[0], "partner_offer_extended/offer-10");
        assert_false(re.o.late[0]);
        registration(&ev, "ra-a", NULL); /* Updated, same sale: retries the loaded hold */
        ev.kind = MP_REGISTRATION_UPDATED;
        snprintf(ev.event_key, sizeof ev.event_key, "id:upd-ra-a");
        w_apply(&re, &ev);
        assert_int_equal(re.o.n, 2);
        assert_string_equal(re.o.keys[1], "partner_offer_extended/offer-11");
        assert_true(re.o.late[1]);
        assert_null(corr_state_hold(re.s, "offer-11"));
        offer_clear(&held);
        hold_clear(&h);
        mp_event_deinit(&ev);
        w_free(&re);
        w_free(&w);
}

/* The end of a direct deal nobody is told about is still stored: the
 * changeset carries the ended agreement, so a restart does not see it
 * active (and open to an amendment notice) again. */
static void ended_direct_deal_is_stored(void **state)
{
        struct world w;
        struct mp_event ev;

        w_init(&w);
        mp_event_init(&ev);
        agreement(&ev, MP_AGREEMENT_CREATED, MP_ROLE_PROPOSER, "agmt-12", "NEW", "ACTIVE", NULL,
                  "offer-12", "2025-03-12T00:00:00Z");
        w_apply(&w, &ev);
        agreement(&ev, MP_AGREEMENT_ENDED, MP_ROLE_PROPOSER, "agmt-12", NULL, NULL, NULL,
                  "offer-12", "2025-04-12T00:00:00Z");
        assert_int_equal(corr_apply(w.s, &w.opt, &ev, w.now, &w.cs), 0);
        assert_int_equal(w.cs.n_notifications, 0);
        assert_int_equal(w.cs.n_agreements, 1);
        assert_string_equal(w.cs.agreements[0].status, "ENDED");
        assert_string_equal(corr_state_agreement(w.s, "agmt-12")->status, "ENDED");
        mp_event_deinit(&ev);
        w_free(&w);
}

/* A move is in the offer's history with who, why and its correction; the
 * correction's context names both authorizations, and its contacts are
 * those of both, so include_authorization_contacts reaches everyone. */
static void a_move_is_recorded_and_reaches_both_sides(void **state)
{
        struct world w;
        struct mp_event ev;
        const struct link_change *lc = NULL;
        const char *opps[] = { "opportunities", NULL },
                   *notify[] = { "opportunity", "notify", NULL };
        yajl_val ctx, v;

        w_init(&w);
        mp_event_init(&ev);
        registration(&ev, "ra-a", NULL);
        ev.reg.notify[0] = mp_event_strdup(&ev, "a@example.com");
        ev.reg.n_notify = 1;
        w_apply(&w, &ev);
        offer_released(&ev, ISV, "offer-9", "r9");
        w_apply(&w, &ev);
        registration(&ev, "ra-b", NULL);
        set(&ev, &ev.product_id, "prod-2"); /* not a candidate: the move is by hand */
        ev.reg.notify[0] = mp_event_strdup(&ev, "b@example.com");
        ev.reg.n_notify = 1;
        snprintf(ev.event_key, sizeof ev.event_key, "id:reg-b");
        w_apply(&w, &ev);
        ev.kind = MP_OFFER_ASSOCIATED;
        set(&ev, &ev.resale_authorization_id, "ra-b");
        set(&ev, &ev.offer_id, "offer-9");
        set(&ev, &ev.reg.actor, "alice");
        set(&ev, &ev.reg.reason, "the partner says so");
        snprintf(ev.event_key, sizeof ev.event_key, "id:move");
        assert_int_equal(corr_apply(w.s, &w.opt, &ev, w.now, &w.cs), 0);
        assert_int_equal(w.cs.n_link_changes, 1);
        lc = &w.cs.link_changes[0];
        assert_string_equal(lc->from_authorization_id, "ra-a");
        assert_string_equal(lc->to_authorization_id, "ra-b");
        assert_int_equal(lc->from_link, LINK_INFERRED);
        assert_int_equal(lc->to_link, LINK_MANUAL);
        assert_string_equal(lc->actor, "alice");
        assert_string_equal(lc->reason, "the partner says so");
        assert_string_equal(lc->correction_key, "link_corrected/offer-9/1");
        assert_int_equal(lc->at, w.now);
        ctx = context_of(&w, "link_corrected/offer-9/1", &w.cs);
        assert_non_null(ctx);
        for (size_t i = 0; i < w.cs.n_notifications; i++)
                assert_written_as_yajl_would(w.cs.notifications[i].context_json);
        assert_string_equal(path_str(ctx, "kind", NULL), "link_corrected");
        assert_string_equal(path_str(ctx, "opportunity", "id"), "ra-b");
        assert_string_equal(path_str(ctx, "previous_opportunity", "id"), "ra-a");
        assert_string_equal(path_str(ctx, "correction", "actor"), "alice");
        assert_string_equal(path_str(ctx, "correction", "previous_link"), "inferred");
        assert_non_null(strstr(path_str(ctx, "reason", NULL), "the partner says so"));
        v = yajl_tree_get(ctx, opps, yajl_t_array);
        assert_true(v && v->u.array.len == 2);
        v = yajl_tree_get(ctx, notify, yajl_t_array);
        assert_true(v && v->u.array.len == 2);
        yajl_tree_free(ctx);
        /* the offer left ra-a's list for ra-b's */
        assert_false(
            strlist_contains(&corr_state_authorization(w.s, "ra-a")->offer_ids, "offer-9"));
        assert_true(strlist_contains(&corr_state_authorization(w.s, "ra-b")->offer_ids, "offer-9"));
        changeset_clear(&w.cs);
        mp_event_deinit(&ev);
        w_free(&w);
}

/* A state loaded from the store (corr_state_put_*) knows which agreements
 * named an offer: a forced move of an offer whose order was told before
 * the restart is a correction, as it is without one. */
static void a_loaded_agreement_order_counts_as_told(void **state)
{
        static const char *const auth_ids[] = { "ra-a", "ra-b" };
        struct world w, fresh;
        struct mp_event ev;
        bool corrected = false;

        (void)state;
        w_init(&w);
        w_init(&fresh);
        mp_event_init(&ev);
        agreement(&ev, MP_AGREEMENT_CREATED, MP_ROLE_MANUFACTURER, "agmt-1", "NEW", "ACTIVE",
                  "ra-a", "offer-1", "2025-03-12T00:00:00Z");
        snprintf(ev.event_key, sizeof ev.event_key, "id:new");
        w_apply(&w, &ev);
        registration(&ev, "ra-b", NULL);
        snprintf(ev.event_key, sizeof ev.event_key, "id:reg-b");
        w_apply(&w, &ev);
        for (size_t i = 0; i < 2; i++)
                assert_int_equal(corr_state_put_authorization(
                                     fresh.s, corr_state_authorization(w.s, auth_ids[i])),
                                 0);
        assert_int_equal(corr_state_put_offer(fresh.s, corr_state_offer(w.s, "offer-1")), 0);
        assert_int_equal(corr_state_put_agreement(fresh.s, corr_state_agreement(w.s, "agmt-1")), 0);
        assert_int_equal(corr_state_put_notification_key(fresh.s, "new_order/agmt-1"), 0);
        ev.kind = MP_OFFER_ASSOCIATED;
        set(&ev, &ev.resale_authorization_id, "ra-b");
        set(&ev, &ev.offer_id, "offer-1");
        set(&ev, &ev.reg.actor, "alice");
        ev.reg.force = true;
        snprintf(ev.event_key, sizeof ev.event_key, "id:move");
        changeset_clear(&fresh.cs);
        assert_int_equal(corr_apply(fresh.s, &fresh.opt, &ev, fresh.now, &fresh.cs), 0);
        for (size_t i = 0; i < fresh.cs.n_notifications; i++)
                corrected = corrected ||
                            strcmp(fresh.cs.notifications[i].key, "link_corrected/offer-1/1") == 0;
        assert_true(corrected);
        mp_event_deinit(&ev);
        w_free(&w);
        w_free(&fresh);
}

/* Held offers of one sale key, taken from a state loaded from the store
 * (corr_state_put_offer, then _hold, as store_load hands them over) and
 * from events, are all retried when a registration makes them inferable,
 * in the order they were first seen; one not held any more is not. */
static void a_registration_retries_every_held_offer_of_its_key_in_order(void **state)
{
        struct world w;
        struct mp_event ev;
        struct offer o = { 0 };
        struct hold h = { .offer_id = (char *)"offer-a", .created_at = 1, .deadline = 1 << 30 };
        char *buyers[] = { (char *)BUYER };
        const struct offer *loaded;

        (void)state;
        w_init(&w);
        mp_event_init(&ev);
        /* offer-a as the store would load it: indexed, then held */
        o.id = (char *)"offer-a";
        o.product_id = (char *)"prod-1";
        o.manufacturer_account_id = (char *)ISV;
        o.seller_of_record_account_id = (char *)PARTNER;
        o.targeted_buyer_account_ids.v = buyers;
        o.targeted_buyer_account_ids.n = 1;
        o.released_seen = true;
        assert_int_equal(corr_state_put_offer(w.s, &o), 0);
        assert_int_equal(corr_state_put_hold(w.s, &h), 0);
        /* offer-b and offer-c arrive before anyone registered: held too */
        offer_released(&ev, ISV, "offer-b", "rb");
        w_apply(&w, &ev);
        offer_released(&ev, ISV, "offer-c", "rc");
        w_apply(&w, &ev);
        assert_non_null(corr_state_hold(w.s, "offer-c"));
        /* an association takes offer-b out of the holds by hand */
        ev.kind = MP_OFFER_ASSOCIATED;
        set(&ev, &ev.resale_authorization_id, "ra-x");
        set(&ev, &ev.offer_id, "offer-b");
        set(&ev, &ev.reg.actor, "alice");
        snprintf(ev.event_key, sizeof ev.event_key, "id:assoc-b");
        w_apply(&w, &ev);
        assert_null(corr_state_hold(w.s, "offer-b"));
        w.o.n = 0;
        registration(&ev, "ra-1", NULL);
        w_apply(&w, &ev);
        assert_int_equal(w.o.n, 2);
        assert_string_equal(w.o.keys[0], "partner_offer_extended/offer-a");
        assert_string_equal(w.o.keys[1], "partner_offer_extended/offer-c");
        assert_null(corr_state_hold(w.s, "offer-a"));
        loaded = corr_state_offer(w.s, "offer-a");
        assert_string_equal(loaded->authorization_id, "ra-1");
        mp_event_deinit(&ev);
        w_free(&w);
}

/* ---- which held offers a registration retries ----
 *
 * A registration or sync retries only the held offers whose inference it
 * can have changed (corr_held_to_retry), yet must settle exactly those a
 * retry of every held offer of its sale keys would, in the same order.
 * Each row is a story; its last step must emit `want` (the
 * partner_offer_extended of the offers it settles, in order), so a retry
 * set that were too narrow fails the row that needs the offer it missed. */

enum step_op { S_REG, S_UPD, S_WDR, S_REL };

struct story_step {
        enum step_op op;
        const char *id, *product, *buyers, *expires; /* buyers: "b1,b2" */
        int64_t at;                                  /* 0: a second after the last */
};

#define DAY0   1741795491 /* 2025-03-12T16:04:51Z, the world's clock */
#define EXPIRY "2025-03-20T00:00:00Z"
#define AFTER  1742500000 /* after EXPIRY */
#define B1     "100000000001"
#define B2     "100000000002"
#define B3     "100000000003"
#define B9     "100000000009"

static void set_buyers(struct mp_event *ev, const char *list, const char **v, size_t *n)
{
        char one[64];

        *n = 0;
        for (const char *p = list; p && *p && *n < MP_MAX_BUYERS;) {
                const char *comma = strchr(p, ',');
                size_t len = comma ? (size_t)(comma - p) : strlen(p);
                snprintf(one, sizeof one, "%.*s", (int)len, p);
                v[(*n)++] = mp_event_strdup(ev, one);
                p = comma ? comma + 1 : p + len;
        }
}

static void story_event(struct mp_event *ev, const struct story_step *sp, int i)
{
        if (sp->op == S_REL) {
                offer_released(ev, ISV, sp->id, "r");
                set(ev, &ev->product_id, sp->product);
                set_buyers(ev, sp->buyers, ev->targeted_buyer_account_ids,
                           &ev->n_targeted_buyer_account_ids);
        } else {
                registration(ev, sp->id, NULL);
                ev->kind = sp->op == S_REG   ? MP_REGISTRATION_REGISTERED
                           : sp->op == S_UPD ? MP_REGISTRATION_UPDATED
                                             : MP_REGISTRATION_WITHDRAWN;
                set(ev, &ev->product_id, sp->product);
                set(ev, &ev->reg.expires_at, sp->expires);
                set_buyers(ev, sp->buyers, ev->reg.buyer_account_ids, &ev->reg.n_buyer_account_ids);
        }
        snprintf(ev->event_key, sizeof ev->event_key, "id:step-%d", i);
}

static void held_offers_settle_as_a_full_retry_would(void **state)
{
        static const struct {
                const char *name;
                struct story_step steps[8];
                const char *want[3];
        } rows[] = {
                { "an offer naming no buyer is never inferred",
                  { { S_REG, "ra-a", "prod-1", B1, NULL, 0 },
                    { S_REL, "o1", "prod-1", "", NULL, 0 },
                    { S_REG, "ra-b", "prod-1", B1, NULL, 0 } },
                  { NULL } },
                { "an authorization that stops naming buyers ends an ambiguity",
                  { { S_REG, "ra-a", "prod-1", B1, NULL, 0 },
                    { S_REG, "ra-b", "prod-1", B1, NULL, 0 },
                    { S_REL, "o1", "prod-1", B1, NULL, 0 },
                    { S_UPD, "ra-b", "prod-1", "", NULL, 0 } },
                  { "o1" } },
                { "an authorization naming no buyer that names one settles",
                  { { S_REG, "ra-b", "prod-1", "", NULL, 0 },
                    { S_REL, "o1", "prod-1", B1, NULL, 0 },
                    { S_UPD, "ra-b", "prod-1", B1, NULL, 0 } },
                  { "o1" } },
                { "a buyer dropped from a list ends an ambiguity",
                  { { S_REG, "ra-a", "prod-1", B1, NULL, 0 },
                    { S_REG, "ra-b", "prod-1", B1 "," B2, NULL, 0 },
                    { S_REL, "o1", "prod-1", B1, NULL, 0 },
                    { S_UPD, "ra-b", "prod-1", B2, NULL, 0 } },
                  { "o1" } },
                { "an offer's later buyer dropped ends an ambiguity",
                  { { S_REG, "ra-a", "prod-1", B1 "," B2, NULL, 0 },
                    { S_REG, "ra-b", "prod-1", B1 "," B2, NULL, 0 },
                    { S_REL, "o1", "prod-1", B2 "," B1, NULL, 0 },
                    { S_UPD, "ra-b", "prod-1", B1, NULL, 0 } },
                  { "o1" } },
                { "a withdrawal ends an ambiguity",
                  { { S_REG, "ra-a", "prod-1", B1, NULL, 0 },
                    { S_REG, "ra-b", "prod-1", B1, NULL, 0 },
                    { S_REL, "o1", "prod-1", B1, NULL, 0 },
                    { S_WDR, "ra-b", "prod-1", NULL, NULL, 0 } },
                  { "o1" } },
                { "an expiry ends an ambiguity: any registration of the key sees it",
                  { { S_REG, "ra-a", "prod-1", B1, NULL, 0 },
                    { S_REG, "ra-b", "prod-1", B1, EXPIRY, 0 },
                    { S_REL, "o1", "prod-1", B1, NULL, 0 },
                    { S_REL, "o2", "prod-1", B2, NULL, 0 },
                    { S_REG, "ra-z", "prod-1", B9, NULL, AFTER } },
                  { "o1" } },
                { "an expiry given after the offer was held",
                  { { S_REG, "ra-a", "prod-1", B1, NULL, 0 },
                    { S_REG, "ra-b", "prod-1", B1, NULL, 0 },
                    { S_REL, "o1", "prod-1", B1, NULL, 0 },
                    { S_UPD, "ra-b", "prod-1", B1, EXPIRY, 0 },
                    { S_REG, "ra-z", "prod-1", B9, NULL, AFTER } },
                  { "o1" } },
                { "an offer released after its bucket expires",
                  { { S_REG, "ra-a", "prod-1", B1, NULL, 0 },
                    { S_REG, "ra-b", "prod-1", B1, EXPIRY, 0 },
                    { S_REG, "ra-z", "prod-1", B9, NULL, 0 },
                    { S_REL, "o1", "prod-1", B1, NULL, 0 },
                    { S_UPD, "ra-z", "prod-1", B9, NULL, AFTER } },
                  { "o1" } },
                { "a clock going back revives an expired candidate",
                  { { S_REG, "ra-a", "prod-1", B1, EXPIRY, 0 },
                    { S_REL, "o1", "prod-1", B1, NULL, AFTER },
                    { S_REG, "ra-z", "prod-1", B9, NULL, DAY0 } },
                  { "o1" } },
                { "an authorization leaving the sale key ends an ambiguity",
                  { { S_REG, "ra-a", "prod-1", B1, NULL, 0 },
                    { S_REG, "ra-b", "prod-1", B1, NULL, 0 },
                    { S_REL, "o1", "prod-1", B1, NULL, 0 },
                    { S_UPD, "ra-b", "prod-2", B1, NULL, 0 } },
                  { "o1" } },
                { "an authorization entering the sale key settles",
                  { { S_REG, "ra-c", "prod-2", B1, NULL, 0 },
                    { S_REL, "o1", "prod-1", B1, NULL, 0 },
                    { S_UPD, "ra-c", "prod-1", B1, NULL, 0 } },
                  { "o1" } },
                { "an offer moved to another key is retried in each key's order",
                  { { S_REL, "o1", "prod-2", B3, NULL, 0 },
                    { S_REG, "ra-a", "prod-1", B1, NULL, 0 },
                    { S_REG, "ra-b", "prod-1", B1 "," B2, NULL, 0 },
                    { S_REL, "o1", "prod-1", B1, NULL, 0 },
                    { S_REL, "o2", "prod-2", B2, NULL, 0 },
                    { S_UPD, "ra-b", "prod-2", B1 "," B2, NULL, 0 } },
                  { "o1", "o2" } },
                { "offers of both keys settle, the new key's first",
                  { { S_REG, "ra-a", "prod-1", B1, NULL, 0 },
                    { S_REG, "ra-b", "prod-1", B1, NULL, 0 },
                    { S_REL, "o1", "prod-1", B1, NULL, 0 },
                    { S_REL, "o2", "prod-2", B2, NULL, 0 },
                    { S_REL, "o3", "prod-2", B2, NULL, 0 },
                    { S_UPD, "ra-b", "prod-2", B2, NULL, 0 } },
                  { "o2", "o3", "o1" } },
        };

        int failed = 0;

        (void)state;
        for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
                struct world w;
                struct mp_event ev;
                size_t n = 0, want = 0;

                w_init(&w);
                mp_event_init(&ev);
                while (n < 8 && rows[r].steps[n].id)
                        n++;
                for (size_t i = 0; i < n; i++) {
                        if (rows[r].steps[i].at)
                                w.now = rows[r].steps[i].at;
                        if (i == n - 1)
                                w.o.n = 0; /* what the last step emits */
                        story_event(&ev, &rows[r].steps[i], (int)i);
                        w_apply(&w, &ev);
                }
                while (want < 3 && rows[r].want[want])
                        want++;
                /* every row is run and named: a too narrow retry fails several */
                for (size_t i = 0; i < want || i < (size_t)w.o.n; i++) {
                        char key[64] = "none";
                        if (i < want)
                                snprintf(key, sizeof key, "partner_offer_extended/%s",
                                         rows[r].want[i]);
                        if (i < (size_t)w.o.n && strcmp(w.o.keys[i], key) == 0)
                                continue;
                        print_message("FAIL %s: #%zu is %s, want %s\n", rows[r].name, i,
                                      i < (size_t)w.o.n ? w.o.keys[i] : "none", key);
                        failed++;
                        break;
                }
                mp_event_deinit(&ev);
                w_free(&w);
        }
        assert_int_equal(failed, 0);
}

/* What makes an authorization a legal owner, each mismatch named. */
static void offer_fits_names_the_mismatch(void **state)
{
        static const struct {
                const char *name, *product, *reseller, *buyer, *expires;
                bool withdrawn;
                const char *why; /* NULL: fits */
        } rows[] = {
                { "all equal", "prod-1", PARTNER, BUYER, "2030-01-01T00:00:00Z", false, NULL },
                { "no buyers named: any buyer", "prod-1", PARTNER, NULL, NULL, false, NULL },
                { "product", "prod-2", PARTNER, BUYER, NULL, false, "product differs" },
                { "reseller", "prod-1", ISV, BUYER, NULL, false, "reseller differs" },
                { "buyers", "prod-1", PARTNER, "000011112222", NULL, false, "buyers differ" },
                { "expiry", "prod-1", PARTNER, BUYER, "2020-01-01T00:00:00Z", false, "expired" },
                { "withdrawn", "prod-1", PARTNER, BUYER, NULL, true, "withdrawn" },
        };
        struct offer o = { 0 };

        assert_int_equal(str_assign(&o.id, "offer-1"), 0);
        assert_int_equal(str_assign(&o.product_id, "prod-1"), 0);
        assert_int_equal(str_assign(&o.seller_of_record_account_id, PARTNER), 0);
        assert_int_equal(strlist_add(&o.targeted_buyer_account_ids, BUYER), 0);
        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
                struct authorization a = { 0 };
                char why[CPPO_ERRLEN] = "";
                bool fits;
                assert_int_equal(str_assign(&a.id, "ra-1"), 0);
                assert_int_equal(str_assign(&a.product_id, rows[i].product), 0);
                assert_int_equal(str_assign(&a.reseller_account_id, rows[i].reseller), 0);
                assert_int_equal(str_assign(&a.expires_at, rows[i].expires), 0);
                if (rows[i].buyer)
                        assert_int_equal(strlist_add(&a.buyer_account_ids, rows[i].buyer), 0);
                a.withdrawn = rows[i].withdrawn;
                fits = corr_offer_fits(&a, &o, 1741795491, why, sizeof why);
                if (fits != (rows[i].why == NULL) || (rows[i].why && !strstr(why, rows[i].why)))
                        fail_msg("%s: fits=%d why='%s'", rows[i].name, fits, why);
                authorization_clear(&a);
        }
        offer_clear(&o);
}

/* attention_needed's command pastes into a shell as it is. */
static void attention_command_is_shell_quoted(void **state)
{
        static const struct {
                const char *in, *out;
        } words[] = {
                { "offer-5", "offer-5" },
                { "offer 5", "'offer 5'" },
                { "o'x", "'o'\\''x'" },
                { "$(id)", "'$(id)'" },
                { "", "''" },
        };
        struct world w;
        struct mp_event ev;
        yajl_val ctx;
        char out[64];

        for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
                corr_shell_word(words[i].in, out, sizeof out);
                assert_string_equal(out, words[i].out);
        }
        w_init(&w);
        mp_event_init(&ev);
        offer_released(&ev, ISV, "offer;rm -rf", "r1");
        w_apply(&w, &ev);
        assert_int_equal(corr_tick(w.s, &w.opt, w.now + 73 * 3600, &w.cs), 0);
        ctx = context_of(&w, "attention_needed/offer;rm -rf", &w.cs);
        assert_non_null(ctx);
        assert_non_null(strstr(path_str(ctx, "reason", NULL), "--offer 'offer;rm -rf' "));
        yajl_tree_free(ctx);
        mp_event_deinit(&ev);
        w_free(&w);
}

/* ---- AWS sync: merge rules, candidates, aws links ---- */

#define T1 "2024-03-01T09:30:00Z"
#define T2 "2024-03-05T09:30:00Z"

static void synced(struct mp_event *ev, const char *ra, const char *status, const char *modified,
                   const char *expires, const char *product)
{
        ev->kind = MP_AUTHORIZATION_SYNCED;
        set(ev, &ev->source, "cppo-notify");
        set(ev, &ev->resale_authorization_id, ra);
        set(ev, &ev->product_id, product);
        set(ev, &ev->reg.product_title, "Analytics Suite");
        set(ev, &ev->reg.name, "Northwind 12 months");
        set(ev, &ev->reg.reseller_account_id, PARTNER);
        set(ev, &ev->reg.reseller_name, "Partner Legal Name");
        set(ev, &ev->reg.expires_at, expires);
        set(ev, &ev->reg.aws_status, status);
        set(ev, &ev->reg.aws_last_modified, modified);
        ev->reg.buyer_account_ids[0] = mp_event_strdup(ev, BUYER);
        ev->reg.n_buyer_account_ids = 1;
        snprintf(ev->event_key, sizeof ev->event_key,
                 "cppo-notify|Resale Authorization Synced|%s@%s", ra, modified);
}

/* One step of a merge scenario: S (sync: status, modified, expiry,
 * product), R (registration with another name and product "prod-1"),
 * O (Offer Released of offer-1). */
struct merge_step {
        char op;
        const char *status, *modified, *expires, *product;
};

/* Macros, not constants: a static table may only hold constant
 * expressions (clang is strict about it). */
#define STEP_SYNC_ACTIVE                                                                           \
        {                                                                                          \
                'S', "Active", T1, "2030-12-31T23:59:59Z", "prod-1"                                \
        }
#define STEP_REG                                                                                   \
        {                                                                                          \
                'R', NULL, NULL, NULL, NULL                                                        \
        }
#define STEP_OFFER                                                                                 \
        {                                                                                          \
                'O', NULL, NULL, NULL, NULL                                                        \
        }

static const struct merge_row {
        const char *name;
        struct merge_step steps[4];
        bool extended;          /* partner_offer_extended/offer-1 in the end */
        bool late;              /* ... after a hold */
        const char *aws_status; /* in the notification's context, NULL: absent */
        const char *auth_name;
        enum auth_source name_src, product_src, company_src, status_src;
} merge_rows[] = {
        { "synced only: an inference candidate at once",
          { STEP_SYNC_ACTIVE, STEP_OFFER },
          true,
          false,
          "Active",
          "Northwind 12 months",
          AUTH_SRC_AWS,
          AUTH_SRC_AWS,
          AUTH_SRC_NONE,
          AUTH_SRC_AWS },
        { "Restricted in AWS: not a candidate",
          { { 'S', "Restricted", T1, "2030-12-31T23:59:59Z", "prod-1" }, STEP_OFFER },
          false,
          false,
          NULL,
          "Northwind 12 months",
          AUTH_SRC_AWS,
          AUTH_SRC_AWS,
          AUTH_SRC_NONE,
          AUTH_SRC_AWS },
        { "past its AWS end date: not a candidate",
          { { 'S', "Active", T1, "2020-01-01T00:00:00Z", "prod-1" }, STEP_OFFER },
          false,
          false,
          NULL,
          "Northwind 12 months",
          AUTH_SRC_AWS,
          AUTH_SRC_AWS,
          AUTH_SRC_NONE,
          AUTH_SRC_AWS },
        { "registered, then synced: AWS wins its fields, the CRM keeps its own",
          { STEP_REG, STEP_SYNC_ACTIVE, STEP_OFFER },
          true,
          false,
          "Active",
          "Northwind 12 months",
          AUTH_SRC_AWS,
          AUTH_SRC_AWS,
          AUTH_SRC_REGISTERED,
          AUTH_SRC_AWS },
        { "synced, then registered: the registration never overrides AWS",
          { STEP_SYNC_ACTIVE, STEP_REG, STEP_OFFER },
          true,
          false,
          "Active",
          "Northwind 12 months",
          AUTH_SRC_AWS,
          AUTH_SRC_AWS,
          AUTH_SRC_REGISTERED,
          AUTH_SRC_AWS },
        { "registered only: as before, no AWS status",
          { STEP_REG, STEP_OFFER },
          true,
          false,
          NULL,
          "Contoso 12m",
          AUTH_SRC_REGISTERED,
          AUTH_SRC_REGISTERED,
          AUTH_SRC_REGISTERED,
          AUTH_SRC_NONE },
        { "an older AWS revision changes nothing",
          { { 'S', "Active", T2, "2030-12-31T23:59:59Z", "prod-1" },
            { 'S', "Restricted", T1, "2030-12-31T23:59:59Z", "prod-1" },
            STEP_OFFER },
          true,
          false,
          "Active",
          "Northwind 12 months",
          AUTH_SRC_AWS,
          AUTH_SRC_AWS,
          AUTH_SRC_NONE,
          AUTH_SRC_AWS },
        { "a newer AWS revision restricts it",
          { STEP_SYNC_ACTIVE,
            { 'S', "Restricted", T2, "2030-12-31T23:59:59Z", "prod-1" },
            STEP_OFFER },
          false,
          false,
          NULL,
          "Northwind 12 months",
          AUTH_SRC_AWS,
          AUTH_SRC_AWS,
          AUTH_SRC_NONE,
          AUTH_SRC_AWS },
        { "a held offer is released by the sync, late",
          { STEP_OFFER, STEP_SYNC_ACTIVE },
          true,
          true,
          "Active",
          "Northwind 12 months",
          AUTH_SRC_AWS,
          AUTH_SRC_AWS,
          AUTH_SRC_NONE,
          AUTH_SRC_AWS },
        { "AWS names another product: the offer is not its",
          { { 'S', "Active", T1, "2030-12-31T23:59:59Z", "prod-other" }, STEP_REG, STEP_OFFER },
          false,
          false,
          NULL,
          "Northwind 12 months",
          AUTH_SRC_AWS,
          AUTH_SRC_AWS,
          AUTH_SRC_REGISTERED,
          AUTH_SRC_AWS },
};

static void merge_step_event(struct mp_event *ev, const struct merge_step *st)
{
        switch (st->op) {
        case 'S': synced(ev, "ra-1", st->status, st->modified, st->expires, st->product); break;
        case 'R': registration(ev, "ra-1", NULL); break;
        default: offer_released(ev, ISV, "offer-1", "r1"); break;
        }
}

static void aws_merge_table(void **state)
{
        for (size_t i = 0; i < sizeof merge_rows / sizeof merge_rows[0]; i++) {
                const struct merge_row *row = &merge_rows[i];
                const struct authorization *a;
                struct changeset all = { 0 };
                yajl_val ctx = NULL;
                struct mp_event ev;
                struct world w;
                int k;

                fprintf(stderr, "# %s\n", row->name);
                w_init(&w);
                mp_event_init(&ev);
                for (int j = 0; j < 4 && row->steps[j].op; j++) {
                        merge_step_event(&ev, &row->steps[j]);
                        assert_int_equal(corr_apply(w.s, &w.opt, &ev, w.now++, &w.cs), 0);
                        assert_int_equal(changeset_merge(&all, &w.cs), 0);
                        mp_event_deinit(&ev);
                        mp_event_init(&ev);
                }
                ctx = context_of(&w, "partner_offer_extended/offer-1", &all);
                collect(&all, &w.o);
                k = find(&w.o, "partner_offer_extended/offer-1");
                assert_int_equal(k >= 0, row->extended);
                if (k >= 0) {
                        const char *st[] = { "opportunity", "aws_status", NULL };
                        yajl_val v;
                        assert_int_equal(w.o.late[k], row->late);
                        assert_non_null(ctx);
                        v = yajl_tree_get(ctx, st, yajl_t_string);
                        if (row->aws_status)
                                assert_string_equal(YAJL_GET_STRING(v), row->aws_status);
                        else
                                assert_null(v);
                        assert_string_equal(path_str(ctx, "opportunity", "name"), row->auth_name);
                        assert_string_equal(path_str(ctx, "offer", "link"), "inferred");
                        yajl_tree_free(ctx);
                }
                a = corr_state_authorization(w.s, "ra-1");
                assert_non_null(a);
                assert_string_equal(a->name, row->auth_name);
                assert_int_equal(authorization_source(a, AUTH_F_NAME), row->name_src);
                assert_int_equal(authorization_source(a, AUTH_F_PRODUCT), row->product_src);
                assert_int_equal(authorization_source(a, AUTH_F_COMPANY), row->company_src);
                assert_int_equal(authorization_source(a, AUTH_F_STATUS), row->status_src);
                if (row->company_src == AUTH_SRC_REGISTERED) {
                        assert_string_equal(a->buyer_company_name, "Contoso Bank");
                        assert_non_null(a->metadata_json);
                }
                changeset_clear(&all);
                mp_event_deinit(&ev);
                w_free(&w);
        }
}

/* A held offer (no candidate) that AWS's record of the offer names: linked
 * with strength aws, released late; an agreement event still overrules it,
 * a registration does not. A Change Set Succeeded asks for a refresh. */
static void aws_offer_link_and_change_set(void **state)
{
        struct world w;
        struct mp_event ev;
        const struct offer *o;

        assert_true(LINK_EVENT > LINK_AWS && LINK_AWS > LINK_REGISTERED);
        assert_string_equal(link_strength_name(LINK_AWS), "aws");
        w_init(&w);
        mp_event_init(&ev);
        offer_released(&ev, ISV, "offer-7", "r7");
        w_apply(&w, &ev);
        assert_non_null(corr_state_hold(w.s, "offer-7"));
        ev.kind = MP_OFFER_AWS_LINKED;
        set(&ev, &ev.source, "cppo-notify");
        set(&ev, &ev.offer_id, "offer-7");
        set(&ev, &ev.resale_authorization_id, "ra-aws");
        snprintf(ev.event_key, sizeof ev.event_key,
                 "cppo-notify|Offer Authorization Found|offer-7");
        w_apply(&w, &ev);
        assert_int_equal(w.o.n, 1);
        assert_string_equal(w.o.keys[0], "partner_offer_extended/offer-7");
        assert_true(w.o.late[0]);
        o = corr_state_offer(w.s, "offer-7");
        assert_string_equal(o->authorization_id, "ra-aws");
        assert_int_equal(o->link, LINK_AWS);
        registration(&ev, "ra-other", "offer-7"); /* weaker: changes nothing */
        w_apply(&w, &ev);
        assert_string_equal(corr_state_offer(w.s, "offer-7")->authorization_id, "ra-aws");

        ev.kind = MP_CHANGE_SET;
        set(&ev, &ev.detail_type_base, "Change Set Succeeded");
        set(&ev, &ev.change_set_id, "cs-1");
        assert_int_equal(corr_apply(w.s, &w.opt, &ev, w.now, &w.cs), 0);
        assert_int_equal(w.cs.aws_refresh.n, 1);
        assert_string_equal(w.cs.aws_refresh.v[0], "cs-1");
        changeset_clear(&w.cs);
        set(&ev, &ev.detail_type_base, "Change Set Failed");
        assert_int_equal(corr_apply(w.s, &w.opt, &ev, w.now, &w.cs), 0);
        assert_int_equal(w.cs.aws_refresh.n, 0);
        mp_event_deinit(&ev);
        w_free(&w);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(every_ordering_of_one_deal),
                cmocka_unit_test(context_holds_what_a_human_needs),
                cmocka_unit_test(context_text_is_what_yajl_writes),
                cmocka_unit_test(state_reloaded_from_records_emits_nothing_twice),
                cmocka_unit_test(acceptance_table),
                cmocka_unit_test(inference_follows_updates_and_reloaded_records),
                cmocka_unit_test(ended_direct_deal_is_stored),
                cmocka_unit_test(a_move_is_recorded_and_reaches_both_sides),
                cmocka_unit_test(a_loaded_agreement_order_counts_as_told),
                cmocka_unit_test(a_registration_retries_every_held_offer_of_its_key_in_order),
                cmocka_unit_test(held_offers_settle_as_a_full_retry_would),
                cmocka_unit_test(offer_fits_names_the_mismatch),
                cmocka_unit_test(attention_command_is_shell_quoted),
                cmocka_unit_test(aws_merge_table),
                cmocka_unit_test(aws_offer_link_and_change_set),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
