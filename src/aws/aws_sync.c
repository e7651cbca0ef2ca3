/* cppo-notify — the AWS Marketplace Catalog sync (see include/cppo/aws_sync.h). */
#include "cppo/aws_sync.h"

#include "cppo/clock.h"
#include "cppo/error.h"
#include "cppo/json.h"
#include "cppo/log.h"
#include "cppo/timefmt.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yajl/yajl_gen.h>

/* After a failed pass, the next one waits this long at first, doubling up
 * to the interval: a throttled or unreachable API is not hammered. */
#define RETRY_FIRST_S 30
/* Pokes closer together than this are handled together. */
#define POKE_MIN_MS 1000

/* ---- payloads ---- */

/* An EventBridge-shaped cppo-notify event: its id is what makes it one
 * fact for the ledger (the same AWS revision twice is one event). */
static yajl_gen event_open(const char *detail_type, const char *id, const char *time)
{
        yajl_gen g = json_new();

        if (g == NULL)
                return NULL;
        yajl_gen_map_open(g);
        json_string(g, "version", "0");
        json_string(g, "id", id);
        json_string(g, "detail-type", detail_type);
        json_string(g, "source", "cppo-notify");
        if (time)
                json_string(g, "time", time);
        json_str(g, "detail");
        yajl_gen_map_open(g);
        return g;
}

static char *event_close(yajl_gen g)
{
        char *out = NULL;

        if (yajl_gen_map_close(g) == yajl_gen_status_ok &&
            yajl_gen_map_close(g) == yajl_gen_status_ok)
                (void)json_take(g, &out); /* out stays NULL when it fails */
        json_free(g);
        return out;
}

/* "" for absent strings: the event then leaves the key out. */
static void gen_opt(yajl_gen g, const char *key, const char *v)
{
        if (v && v[0])
                json_string(g, key, v);
}

char *aws_sync_payload(const struct aws_resale_auth *ra)
{
        char modified[TIMEFMT_LEN] = "", ends[TIMEFMT_LEN] = "", id[AWS_ID_MAX + 64];
        yajl_gen g;

        if (ra->last_modified)
                timefmt_format(ra->last_modified, modified);
        if (ra->end_date)
                timefmt_format(ra->end_date, ends);
        snprintf(id, sizeof id, "aws-sync:%s@%s", ra->id, modified);
        g = event_open("Resale Authorization Synced", id, modified[0] ? modified : NULL);
        if (g == NULL)
                return NULL;
        json_string(g, "resaleAuthorizationId", ra->id);
        gen_opt(g, "name", ra->name);
        gen_opt(g, "productId", ra->product_id);
        gen_opt(g, "productTitle", ra->product_name);
        gen_opt(g, "resellerAccountId", ra->reseller_account_id);
        gen_opt(g, "resellerName", ra->reseller_legal_name);
        gen_opt(g, "expiresAt", ends);
        json_string(g, "awsStatus", aws_ra_status_name(ra->status));
        gen_opt(g, "lastModifiedDate", modified);
        json_str(g, "buyerAccountIds");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < ra->n_buyers; i++)
                yajl_gen_string(g, (const unsigned char *)ra->buyers[i], strlen(ra->buyers[i]));
        yajl_gen_array_close(g);
        return event_close(g);
}

char *aws_sync_link_payload(const char *offer_id, const char *ra_id)
{
        char id[2 * AWS_ID_MAX + 32];
        yajl_gen g;

        snprintf(id, sizeof id, "aws-offer:%s@%s", offer_id, ra_id);
        g = event_open("Offer Authorization Found", id, NULL);
        if (g == NULL)
                return NULL;
        json_string(g, "offerId", offer_id);
        json_string(g, "resaleAuthorizationId", ra_id);
        json_string(g, "actor", "cppo-notify");
        json_string(g, "reason", "AWS's record of the offer names the authorization");
        return event_close(g);
}

/* ---- one pass ---- */

/* Payloads of one page, written in one short transaction: the describes
 * happen before it, so the daemon's batches never wait for AWS. */
static int queue_all(struct store *s, const struct strlist *payloads, int64_t now)
{
        int r;

        if (payloads->n == 0)
                return 0;
        r = store_begin(s);
        for (size_t i = 0; r == 0 && i < payloads->n; i++)
                r = store_inbox_add(s, payloads->v[i], now, NULL);
        if (r == 0)
                return store_commit(s);
        (void)store_rollback(s); /* the failure above is the one reported */
        return r;
}

/* The revision the store has for id: 0 when unknown or never synced. */
static int64_t stored_revision(struct store *s, const char *id, bool *known)
{
        struct authorization a = { 0 };
        int64_t rev = 0;

        *known = store_get_authorization(s, id, &a) == 0;
        if (*known && a.aws_status)
                rev = a.aws_modified;
        authorization_clear(&a);
        return rev;
}

struct pass {
        struct aws_client *c;
        struct store *s;
        bool dry_run;
        aws_sync_seen_fn fn;
        void *ctx;
        struct aws_sync_stats *st;
        struct aws_resale_auth *ra;
        struct strlist payloads;
};

/* One summary: described and queued when new or changed. */
static int sync_item(struct pass *p, const struct aws_entity_summary *e, char *err, size_t errlen)
{
        bool known = false;
        int64_t rev = stored_revision(p->s, e->id, &known);
        char *payload;
        int r;

        p->st->listed++;
        if (e->last_modified && rev == e->last_modified) {
                p->st->unchanged++;
                return 0;
        }
        if (p->st->described >= AWS_SYNC_MAX_DESCRIBE)
                return 0;
        r = aws_describe_resale_authorization(p->c, e->id, p->ra, err, errlen);
        p->st->described++;
        if (r == -ENOENT)
                return 0; /* deleted since it was listed */
        if (r < 0)
                return r;
        if (p->fn)
                p->fn(p->ctx, p->ra, !known);
        if (p->dry_run)
                return 0;
        payload = aws_sync_payload(p->ra);
        r = payload ? strlist_add(&p->payloads, payload) : -ENOMEM;
        free(payload);
        return r;
}

static int sync_pages(struct pass *p, const char *since, int64_t now, char *err, size_t errlen)
{
        struct aws_list_page *page = malloc(sizeof *page);
        char *token = calloc(1, AWS_TOKEN_MAX);
        int r = page && token ? 0 : -ENOMEM;

        do {
                if (r == 0)
                        r = aws_list_resale_authorizations(p->c, since[0] ? since : NULL, token,
                                                           AWS_PAGE_MAX, page, err, errlen);
                if (r < 0)
                        break;
                p->st->pages++;
                for (size_t i = 0; r == 0 && i < page->n; i++)
                        r = sync_item(p, &page->items[i], err, errlen);
                if (r == 0 && !p->dry_run) {
                        r = queue_all(p->s, &p->payloads, now);
                        if (r == 0)
                                p->st->queued += p->payloads.n;
                        else
                                (void)error_set(err, errlen, r,
                                                "cannot queue the changes in "
                                                "the store inbox: %s",
                                                error_name(r));
                }
                strlist_clear(&p->payloads);
                memcpy(token, page->next_token, AWS_TOKEN_MAX);
        } while (r == 0 && token[0]);
        free(page);
        free(token);
        return r;
}

int aws_sync_once(struct aws_client *c, struct store *s, bool dry_run, int64_t now,
                  aws_sync_seen_fn fn, void *ctx, struct aws_sync_stats *st, char *err,
                  size_t errlen)
{
        struct pass p = { .c = c, .s = s, .dry_run = dry_run, .fn = fn, .ctx = ctx, .st = st };
        char since[TIMEFMT_LEN + 8] = "", when[TIMEFMT_LEN];
        int r = store_aws_get(s, "last_sync", since, sizeof since);

        memset(st, 0, sizeof *st);
        if (r == -ENOENT) {
                since[0] = '\0'; /* the first sync lists everything */
                r = 0;
        }
        if (r < 0)
                return error_set(err, errlen, r, "cannot read the last sync time from the store");
        p.ra = malloc(sizeof *p.ra);
        r = p.ra ? sync_pages(&p, since, now, err, errlen) : -ENOMEM;
        free(p.ra);
        strlist_clear(&p.payloads);
        if (r < 0 || dry_run)
                return r;
        timefmt_format(now - AWS_SYNC_SKEW_S, when);
        r = store_aws_put(s, "last_sync", when, now);
        return r < 0 ? error_set(err, errlen, r, "cannot record the sync time in the store") : 0;
}

int aws_sync_change_set(struct aws_client *c, struct store *s, const char *id, char *err,
                        size_t errlen)
{
        struct aws_change_set *cs = malloc(sizeof *cs);
        struct aws_resale_auth *ra = malloc(sizeof *ra);
        struct strlist payloads = { 0 };
        int r = cs && ra ? aws_describe_change_set(c, id, cs, err, errlen) : -ENOMEM;

        for (size_t i = 0; r == 0 && i < cs->n; i++) {
                char *payload;
                if (strcmp(cs->changes[i].entity_type, "ResaleAuthorization") != 0)
                        continue;
                r = aws_describe_resale_authorization(c, cs->changes[i].entity_id, ra, err, errlen);
                if (r == -ENOENT) {
                        r = 0;
                        continue;
                }
                payload = r == 0 ? aws_sync_payload(ra) : NULL;
                if (r == 0)
                        r = payload ? strlist_add_unique(&payloads, payload) : -ENOMEM;
                free(payload);
        }
        if (r == 0)
                r = queue_all(s, &payloads, clock_wall_s());
        if (r == 0)
                r = (int)payloads.n;
        strlist_clear(&payloads);
        free(cs);
        free(ra);
        return r;
}

static int keep_offer(void *ctx, const char *offer_id)
{
        return strlist_add(ctx, offer_id);
}

/* One held offer: found (queued), not visible (remembered), or a failure
 * worth trying again later (nothing remembered). */
static int lookup_one(struct aws_client *c, struct store *s, const char *offer, int64_t now,
                      char *err, size_t errlen)
{
        char ra_id[AWS_ID_MAX] = "", why[CPPO_ERRLEN] = "";
        struct store_aws_lookup l = { .offer_id = offer, .checked_at = now };
        struct strlist one = { 0 };
        char *payload;
        int r = aws_lookup_offer(c, offer, ra_id, sizeof ra_id, why, sizeof why);

        if (r < 0)
                return error_set(err, errlen, r, "%s", why);
        l.outcome = r == 1 ? "found" : "not_visible";
        l.authorization_id = r == 1 ? ra_id : NULL;
        l.detail = r == 1 ? NULL : why;
        if (r == 1) {
                payload = aws_sync_link_payload(offer, ra_id);
                r = payload ? strlist_add(&one, payload) : -ENOMEM;
                free(payload);
                if (r == 0)
                        r = queue_all(s, &one, now);
                strlist_clear(&one);
                if (r < 0)
                        return r;
                r = 1;
        }
        log_info("aws offer lookup offer=%s outcome=%s authorization=%s", offer, l.outcome,
                 l.authorization_id ? l.authorization_id : "");
        return store_aws_lookup_put(s, &l) < 0 ? -EIO : r;
}

int aws_sync_holds(struct aws_client *c, struct store *s, int64_t checked_before, int64_t now,
                   char *err, size_t errlen)
{
        struct strlist offers = { 0 };
        int found = 0;
        int r = store_aws_holds_to_check(s, checked_before, AWS_SYNC_HOLDS_PER_WAKE, keep_offer,
                                         &offers);

        for (size_t i = 0; r >= 0 && i < offers.n; i++) {
                r = lookup_one(c, s, offers.v[i], now, err, errlen);
                found += r == 1;
        }
        strlist_clear(&offers);
        return r < 0 ? r : found;
}

/* ---- the thread ---- */

struct aws_syncer {
        struct aws_syncer_options opt;
        /* copies: the configuration they came from may be reloaded */
        char *store_path, *region, *endpoint, *profile;
        struct store *store;
        struct aws_client *client;
        pthread_t thread;
        bool started;
        pthread_mutex_t mu;
        pthread_cond_t cv;
        bool poked, stopping; /* under mu */
        bool mutex_ready;
        struct aws_op_stats seen[AWS_OP_COUNT]; /* published so far */
        int64_t next_pass_ms, quiet_until_ms, backoff_s;
        int64_t retry_ms; /* deferred work tried again then (0: none); under mu */
};

/* Counters move by what the client did since the last publication. */
static void publish(struct aws_syncer *y)
{
        const struct aws_syncer_metrics *m = &y->opt.metrics;
        int64_t by[STORE_AWS_SOURCES];
        static const char *const source_label[STORE_AWS_SOURCES] = {
                [STORE_AWS_SOURCE_EVENT] = "event",
                [STORE_AWS_SOURCE_AWS] = "aws",
                [STORE_AWS_SOURCE_REGISTERED] = "registered",
                [STORE_AWS_SOURCE_BOTH] = "aws+registered",
        };

        for (int op = 0; op < AWS_OP_COUNT; op++) {
                struct aws_op_stats now, *was = &y->seen[op];
                const char *name = aws_op_name((enum aws_op)op);
                aws_client_stats(y->client, (enum aws_op)op, &now);
                metric_add(m->calls, (const char *[]){ name, "ok" }, (double)(now.ok - was->ok));
                metric_add(m->calls, (const char *[]){ name, "failed" },
                           (double)(now.failed - was->failed));
                metric_add(m->calls, (const char *[]){ name, "retry" },
                           (double)(now.retries - was->retries));
                metric_add(m->throttles, (const char *[]){ name },
                           (double)(now.throttled - was->throttled));
                *was = now;
        }
        if (m->by_source && store_aws_source_counts(y->store, by) == 0)
                for (int i = 0; i < STORE_AWS_SOURCES; i++)
                        metric_set(m->by_source, (const char *[]){ source_label[i] },
                                   (double)by[i]);
}

/* What to do about an error, for the log line. */
static const char *hint(int r)
{
        switch (r) {
        case -EPERM: return "AWS refused the credentials: run cppo-notifyctl aws check";
        case -EACCES: return "a permission is missing: cppo-notifyctl aws check prints the policy";
        case -ENOENT: return "no credentials found: cppo-notifyctl aws check says where it looked";
        case -EAGAIN: return "throttled: the sync tries again later";
        default: return "the sync tries again later";
        }
}

static void run_pass(struct aws_syncer *y, int64_t t)
{
        const struct aws_syncer_metrics *m = &y->opt.metrics;
        char err[CPPO_ERRLEN] = "";
        struct aws_sync_stats st;
        int64_t now = clock_wall_s();
        int r = aws_sync_once(y->client, y->store, false, now, NULL, NULL, &st, err, sizeof err);

        if (r == 0) {
                y->backoff_s = 0;
                y->next_pass_ms = t + y->opt.interval_s * 1000;
                metric_set(m->last_sync, NULL, (double)now);
                metric_add(m->syncs, (const char *[]){ "ok" }, 1);
                log_info("aws sync done listed=%lu unchanged=%lu described=%lu queued=%lu "
                         "seconds=%.1f",
                         st.listed, st.unchanged, st.described, st.queued,
                         (double)(clock_mono_ms() - t) / 1000);
                /* the sweep: held offers looked up more than half an interval ago */
                r = aws_sync_holds(y->client, y->store, now - y->opt.interval_s / 2, now, err,
                                   sizeof err);
                if (r < 0)
                        log_warn("aws offer lookups stopped error=%s: %s (%s)", error_name(r), err,
                                 hint(r));
                return;
        }
        y->backoff_s = y->backoff_s ? 2 * y->backoff_s : RETRY_FIRST_S;
        if (y->backoff_s > y->opt.interval_s)
                y->backoff_s = y->opt.interval_s;
        y->next_pass_ms = t + y->backoff_s * 1000;
        y->quiet_until_ms = y->next_pass_ms;
        metric_add(m->syncs, (const char *[]){ "failed" }, 1);
        log_warn("aws sync failed error=%s: %s (%s) retry_in=%llds", error_name(r), err, hint(r),
                 (long long)y->backoff_s);
}

static int refresh_one(void *ctx, const struct store_aws_refresh *e)
{
        struct aws_syncer *y = ctx;
        char err[CPPO_ERRLEN] = "", outcome[CPPO_ERRLEN + 16];
        int r = aws_sync_change_set(y->client, y->store, e->change_set_id, err, sizeof err);

        if (r < 0 && r != -ENOENT && r != -EACCES && r != -EPROTO)
                return r; /* kept: tried again after the quiet time */
        if (r >= 0)
                snprintf(outcome, sizeof outcome, "refreshed %d", r);
        else
                snprintf(outcome, sizeof outcome, "failed: %s", err);
        log_info("aws change set change_set=%s outcome=\"%s\"", e->change_set_id, outcome);
        return store_aws_refresh_done(y->store, e->id, outcome, clock_wall_s()) < 0 ? -EIO : 0;
}

/* Between passes: change sets to describe, held offers never looked up. */
static void run_pokes(struct aws_syncer *y, int64_t t)
{
        char err[CPPO_ERRLEN] = "";
        int r;

        if (t < y->quiet_until_ms)
                return;
        r = store_aws_refresh_pending(y->store, 0, refresh_one, y);
        if (r == 0)
                r = aws_sync_holds(y->client, y->store, 0, clock_wall_s(), err, sizeof err);
        if (r < 0) {
                y->quiet_until_ms = t + RETRY_FIRST_S * 1000;
                pthread_mutex_lock(&y->mu);
                y->retry_ms = y->quiet_until_ms; /* even if no poke comes */
                pthread_mutex_unlock(&y->mu);
                log_warn("aws refresh deferred error=%s%s%s (%s)", error_name(r),
                         err[0] ? ": " : "", err, hint(r));
        }
}

/* Sleeps until the next pass, a poke (at most one per POKE_MIN_MS: a poke
 * closer to the last one waits, it is never lost) or stop. *poked says
 * whether to handle pokes now. False when stopping. */
static bool wait_for_work(struct aws_syncer *y, int64_t last_poke, bool *poked)
{
        bool go;

        pthread_mutex_lock(&y->mu);
        for (;;) {
                int64_t now = clock_mono_ms(), until = y->next_pass_ms;
                struct timespec ts;
                if (y->retry_ms && now >= y->retry_ms) {
                        y->retry_ms = 0;
                        y->poked = true;
                        break;
                }
                if (y->stopping || now >= y->next_pass_ms ||
                    (y->poked && now - last_poke >= POKE_MIN_MS))
                        break;
                if (y->poked && last_poke + POKE_MIN_MS < until)
                        until = last_poke + POKE_MIN_MS;
                if (y->retry_ms && y->retry_ms < until)
                        until = y->retry_ms;
                if (until - now > 60000)
                        until = now + 60000; /* the realtime clock may jump: look again */
                ts = clock_wall_ts();
                ts.tv_sec += (until - now) / 1000;
                ts.tv_nsec += ((until - now) % 1000) * 1000000;
                if (ts.tv_nsec >= 1000000000) {
                        ts.tv_sec++;
                        ts.tv_nsec -= 1000000000;
                }
                (void)pthread_cond_timedwait(&y->cv, &y->mu, &ts);
        }
        *poked = y->poked && clock_mono_ms() - last_poke >= POKE_MIN_MS;
        if (*poked)
                y->poked = false;
        go = !y->stopping;
        pthread_mutex_unlock(&y->mu);
        return go;
}

static void *syncer_main(void *arg)
{
        struct aws_syncer *y = arg;
        int64_t last_poke = -POKE_MIN_MS;
        bool poked = false;

        while (wait_for_work(y, last_poke, &poked)) {
                int64_t t = clock_mono_ms();
                bool pass = t >= y->next_pass_ms;
                if (pass)
                        run_pass(y, t);
                if (poked || pass) {
                        run_pokes(y, t);
                        last_poke = t;
                }
                publish(y);
        }
        return NULL;
}

/* *slot (a string of the options) replaced by a copy kept in *own. */
static int dup_opt(char **own, const char **slot)
{
        if (*slot == NULL)
                return 0;
        *own = strdup(*slot);
        *slot = *own;
        return *own ? 0 : -ENOMEM;
}

int aws_syncer_start(struct aws_syncer **out, const struct aws_syncer_options *o, char *err,
                     size_t errlen)
{
        struct aws_syncer *y = calloc(1, sizeof *y);
        int r;

        if (y == NULL)
                return -ENOMEM;
        y->opt = *o;
        if (dup_opt(&y->store_path, &y->opt.store_path) < 0 ||
            dup_opt(&y->region, &y->opt.client.region) < 0 ||
            dup_opt(&y->endpoint, &y->opt.client.endpoint) < 0 ||
            dup_opt(&y->profile, &y->opt.client.creds.profile) < 0) {
                aws_syncer_stop(y);
                return -ENOMEM;
        }
        pthread_mutex_init(&y->mu, NULL);
        y->mutex_ready = true;
        pthread_cond_init(&y->cv, NULL);
        r = store_open(&y->store, y->opt.store_path, &y->opt.store, err, errlen);
        if (r == 0)
                r = aws_client_new(&y->client, &y->opt.client, err, errlen);
        if (r == 0) {
                y->next_pass_ms = clock_mono_ms(); /* the first pass at once */
                r = -pthread_create(&y->thread, NULL, syncer_main, y);
                if (r < 0)
                        (void)error_set(err, errlen, r, "cannot start the aws sync thread");
        }
        if (r < 0) {
                aws_syncer_stop(y);
                return r;
        }
        y->started = true;
        *out = y;
        return 0;
}

void aws_syncer_poke(struct aws_syncer *y)
{
        if (y == NULL)
                return;
        pthread_mutex_lock(&y->mu);
        y->poked = true;
        pthread_cond_signal(&y->cv);
        pthread_mutex_unlock(&y->mu);
}

void aws_syncer_stop(struct aws_syncer *y)
{
        if (y == NULL)
                return;
        if (y->started) {
                pthread_mutex_lock(&y->mu);
                y->stopping = true;
                pthread_cond_signal(&y->cv);
                pthread_mutex_unlock(&y->mu);
                pthread_join(y->thread, NULL);
        }
        aws_client_free(y->client);
        store_close(y->store);
        if (y->mutex_ready) {
                pthread_cond_destroy(&y->cv);
                pthread_mutex_destroy(&y->mu);
        }
        free(y->store_path);
        free(y->region);
        free(y->endpoint);
        free(y->profile);
        free(y);
}
