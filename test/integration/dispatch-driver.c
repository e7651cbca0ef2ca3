/* dispatch-driver — runs the real dispatcher on a config and a fresh store,
 * for test/integration/delivery-peers.sh.
 *
 *   dispatch-driver CONFIG STORE [--due-in MS] [--add RECEIVER:N[:PAYLOAD_FILE]]...
 *                   [--until RECEIVER]... [--timeout S] [--grace MS]
 *                   [--reload CONFIG2 --reload-after MS]
 *
 * Inserts N deliveries per --add (payload read from PAYLOAD_FILE, else made
 * up per channel: a short RFC 5322 message, a Slack JSON text, a JSON
 * object; email recipients are the receiver's to/cc/bcc; due --due-in ms
 * after the start, given before that --add, else at once), starts the
 * dispatcher, waits until every delivery (or every delivery of the --until
 * receivers) is SENT or DEAD, at most --timeout seconds (with --reload,
 * CONFIG2 replaces the config --reload-after ms after the start), stops it and
 * prints, one per line:
 *   start_ms WALL_MS                    (when the dispatcher started)
 *   elapsed_ms MS
 *   stats sent=N retried=N dead=N attempts=N in_flight=N   (before the stop)
 *   delivery KEY receiver=R status=S attempts=N code=C
 *   error KEY TEXT                      (when the delivery has a last error)
 *   attempt KEY n=I at_ms=T outcome=O code=C latency_ms=L
 *   attempt_error KEY n=I TEXT          (when the attempt has an error)
 *   attempt_refused KEY n=I TEXT        (recipients refused at RCPT)
 *   stop_ms MS                          (how long dispatch_stop took)
 *   observed_refused N                  (refused recipients the observer was told of)
 * Exit status: 0 done, 3 timed out (everything is printed anyway), 1 error.
 */
#include "cppo/config.h"
#include "cppo/delivery.h"
#include "cppo/dispatch.h"
#include "cppo/error.h"
#include "cppo/store.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_ADDS   16
#define MAX_UNTIL  16
#define MAX_FILE   (1024 * 1024)
#define LIST_LIMIT 100000

struct add {
        const char *receiver;
        long count;
        const char *payload_file;
        long due_in_ms;
};

struct opts {
        const char *config, *store;
        struct add adds[MAX_ADDS];
        int add_count;
        const char *until[MAX_UNTIL];
        int until_count;
        long timeout_s, grace_ms, due_in_ms, reload_after_ms;
        const char *reload;
};

static int64_t wall_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
        nanosleep(&(struct timespec){ ms / 1000, (ms % 1000) * 1000000L }, NULL);
}

static int usage(void)
{
        fprintf(stderr, "usage: dispatch-driver CONFIG STORE [--add RECEIVER:N[:FILE]]... "
                        "[--until RECEIVER]... [--timeout S] [--grace MS]\n");
        return 1;
}

static int parse_add(struct opts *o, char *spec)
{
        char *colon = strchr(spec, ':'), *end, *file;

        if (colon == NULL || o->add_count >= MAX_ADDS)
                return -EINVAL;
        *colon = '\0';
        file = strchr(colon + 1, ':');
        if (file != NULL)
                *file++ = '\0';
        o->adds[o->add_count].receiver = spec;
        o->adds[o->add_count].count = strtol(colon + 1, &end, 10);
        o->adds[o->add_count].payload_file = file;
        o->adds[o->add_count].due_in_ms = o->due_in_ms;
        if (*end != '\0' || o->adds[o->add_count].count < 1)
                return -EINVAL;
        o->add_count++;
        return 0;
}

static int parse_args(struct opts *o, int argc, char **argv)
{
        if (argc < 3)
                return -EINVAL;
        o->config = argv[1];
        o->store = argv[2];
        o->timeout_s = 60;
        o->grace_ms = 2000;
        for (int i = 3; i < argc; i++) {
                const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
                if (v == NULL)
                        return -EINVAL;
                i++;
                if (strcmp(a, "--add") == 0 && parse_add(o, argv[i]) == 0)
                        continue;
                if (strcmp(a, "--until") == 0 && o->until_count < MAX_UNTIL)
                        o->until[o->until_count++] = v;
                else if (strcmp(a, "--timeout") == 0)
                        o->timeout_s = strtol(v, NULL, 10);
                else if (strcmp(a, "--due-in") == 0)
                        o->due_in_ms = strtol(v, NULL, 10);
                else if (strcmp(a, "--reload") == 0)
                        o->reload = v;
                else if (strcmp(a, "--reload-after") == 0)
                        o->reload_after_ms = strtol(v, NULL, 10);
                else if (strcmp(a, "--grace") == 0)
                        o->grace_ms = strtol(v, NULL, 10);
                else
                        return -EINVAL;
        }
        return 0;
}

static char *read_file(const char *path, size_t *len)
{
        FILE *f = fopen(path, "rb");
        char *data = malloc(MAX_FILE + 1);

        if (f == NULL || data == NULL) {
                if (f != NULL)
                        fclose(f);
                free(data);
                return NULL;
        }
        *len = fread(data, 1, MAX_FILE, f);
        data[*len] = '\0';
        fclose(f);
        return data;
}

static int add_recipients(struct strlist *l, const struct config_strlist *from)
{
        for (size_t i = 0; i < from->count; i++)
                if (strlist_add(l, from->items[i]) < 0)
                        return -ENOMEM;
        return 0;
}

/* A made-up payload for delivery i of receiver rc. */
static char *make_payload(const struct config *cfg, const struct config_receiver *rc, long i,
                          const char *key)
{
        char *p = NULL;
        int n;

        if (rc->type == CONFIG_RECEIVER_EMAIL)
                n = asprintf(&p,
                             "From: %s\r\nTo: %s\r\nSubject: dispatch test %ld\r\n"
                             "Message-ID: <%ld.%" PRId64 "@dispatch.test>\r\n"
                             "Content-Type: text/plain; charset=utf-8\r\n\r\n"
                             "Delivery %s.\r\n",
                             cfg->smtp.from, rc->to.count ? rc->to.items[0] : "undisclosed", i, i,
                             wall_ms(), key);
        else if (rc->type == CONFIG_RECEIVER_SLACK)
                n = asprintf(&p, "{\"text\":\"dispatch test %ld (%s)\"}", i, key);
        else
                n = asprintf(&p, "{\"n\":%ld,\"key\":\"%s\"}", i, key);
        return n < 0 ? NULL : p;
}

static int fill_delivery(struct delivery *d, const struct config *cfg,
                         const struct config_receiver *rc, long i, const struct add *add)
{
        const char *payload_file = add->payload_file;
        int64_t now = wall_ms();

        if (asprintf(&d->key, "test-%ld/%s", i, rc->name) < 0)
                return -ENOMEM;
        if (asprintf(&d->notification_key, "test-%ld", i) < 0)
                return -ENOMEM;
        d->kind = strdup("new_order");
        d->receiver = strdup(rc->name);
        d->channel = strdup(rc->type_name);
        d->rule = strdup("test");
        if (d->kind == NULL || d->receiver == NULL || d->channel == NULL || d->rule == NULL)
                return -ENOMEM;
        d->payload = payload_file != NULL ? read_file(payload_file, &d->payload_len)
                                          : make_payload(cfg, rc, i, d->key);
        if (d->payload == NULL)
                return -EIO;
        if (payload_file == NULL)
                d->payload_len = strlen(d->payload);
        d->status = DELIVERY_QUEUED;
        d->created_at_ms = d->updated_at_ms = now;
        d->next_at_ms = now + add->due_in_ms;
        if (add_recipients(&d->recipients, &rc->to) < 0 ||
            add_recipients(&d->recipients, &rc->cc) < 0 ||
            add_recipients(&d->recipients, &rc->bcc) < 0)
                return -ENOMEM;
        return 0;
}

static int insert_all(struct store *s, const struct config *cfg, const struct opts *o)
{
        for (int a = 0; a < o->add_count; a++) {
                const struct config_receiver *rc = config_receiver(cfg, o->adds[a].receiver);
                if (rc == NULL) {
                        fprintf(stderr, "dispatch-driver: no receiver \"%s\"\n",
                                o->adds[a].receiver);
                        return -ENOENT;
                }
                for (long i = 1; i <= o->adds[a].count; i++) {
                        struct delivery d = { 0 };
                        int r = fill_delivery(&d, cfg, rc, i, &o->adds[a]);
                        if (r == 0)
                                r = store_delivery_add(s, &d);
                        delivery_clear(&d);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int pending(struct store *s, const char *receiver, int64_t *out)
{
        int64_t c[4] = { 0 };
        int r = store_delivery_counts(s, receiver, c);

        *out += c[DELIVERY_QUEUED] + c[DELIVERY_SENDING];
        return r;
}

/* 0 once nothing waited for is QUEUED or SENDING; -ETIMEDOUT after
 * timeout_s. */
static int wait_done(struct store *s, const struct opts *o)
{
        int64_t deadline = wall_ms() + o->timeout_s * 1000;

        for (;;) {
                int64_t n = 0;
                int r = 0;
                for (int i = 0; i < o->until_count && r == 0; i++)
                        r = pending(s, o->until[i], &n);
                if (o->until_count == 0)
                        r = pending(s, NULL, &n);
                if (r < 0)
                        return r;
                if (n == 0)
                        return 0;
                if (wall_ms() >= deadline)
                        return -ETIMEDOUT;
                sleep_ms(50);
        }
}

/* The rest of a line: text with its line breaks blanked. */
static void put_line(const char *text)
{
        for (const char *p = text; *p != '\0'; p++)
                putchar(*p == '\n' || *p == '\r' ? ' ' : *p);
        putchar('\n');
}

static int print_delivery(void *ctx, const struct delivery *d)
{
        struct strlist *keys = ctx;

        printf("delivery %s receiver=%s status=%s attempts=%d code=%d\n", d->key, d->receiver,
               delivery_status_name(d->status), d->attempts, d->last_code);
        if (d->last_error != NULL) {
                printf("error %s ", d->key);
                put_line(d->last_error);
        }
        return strlist_add(keys, d->key);
}

struct attempt_ctx {
        int n;
};

static int print_attempt(void *ctx, const struct delivery_attempt *a)
{
        struct attempt_ctx *c = ctx;

        c->n++;
        printf("attempt %s n=%d at_ms=%" PRId64 " outcome=%s code=%d latency_ms=%" PRId64 "\n",
               a->delivery_key, c->n, a->at_ms, a->outcome, a->code, a->latency_ms);
        if (a->error != NULL) {
                printf("attempt_error %s n=%d ", a->delivery_key, c->n);
                put_line(a->error);
        }
        if (a->refused != NULL) {
                printf("attempt_refused %s n=%d ", a->delivery_key, c->n);
                put_line(a->refused);
        }
        return 0;
}

static int print_all(struct store *s)
{
        struct strlist keys = { 0 };
        int r = store_delivery_list(s, false, LIST_LIMIT, print_delivery, &keys);

        for (size_t i = 0; r >= 0 && i < keys.n; i++) {
                struct attempt_ctx c = { 0 };
                r = store_delivery_attempts(s, keys.v[i], print_attempt, &c);
        }
        strlist_clear(&keys);
        return r;
}

static int load_config(struct config **cfg, const char *path)
{
        struct config_errors errs;
        int r;

        config_errors_init(&errs);
        r = config_load(cfg, path, &errs);
        if (r < 0)
                config_errors_print(&errs, stderr);
        config_errors_deinit(&errs);
        return r;
}

/* Swaps in o->reload after o->reload_after_ms; the old config is freed once
 * the dispatcher no longer uses it. */
static int reload(const struct opts *o, struct dispatcher *d, struct config **cfg)
{
        struct config *next = NULL;
        int r;

        sleep_ms(o->reload_after_ms);
        r = load_config(&next, o->reload);
        if (r == 0)
                r = dispatch_reload(d, next);
        if (r < 0) {
                config_free(next);
                return r;
        }
        config_free(*cfg);
        *cfg = next;
        printf("reloaded_ms %" PRId64 "\n", wall_ms());
        return 0;
}

static void print_stats(struct dispatcher *d)
{
        struct dispatch_stats st;

        dispatch_get_stats(d, &st);
        printf("stats sent=%" PRIu64 " retried=%" PRIu64 " dead=%" PRIu64 " attempts=%" PRIu64
               " in_flight=%" PRIu64 "\n",
               st.sent, st.retried, st.dead, st.attempts, st.in_flight);
}

static pthread_mutex_t observed_lock = PTHREAD_MUTEX_INITIALIZER;
static long observed_refused;

static void on_refused(void *ctx, const char *receiver, int n)
{
        (void)ctx;
        (void)receiver;
        pthread_mutex_lock(&observed_lock);
        observed_refused += n;
        pthread_mutex_unlock(&observed_lock);
}

static int run(const struct opts *o, struct config **cfgp, struct store *s)
{
        const struct config *cfg = *cfgp;
        char err[CPPO_ERRLEN];
        struct dispatcher *d = NULL;
        int64_t t0;
        int r = insert_all(s, cfg, o);

        if (r < 0)
                return r;
        t0 = wall_ms();
        printf("start_ms %" PRId64 "\n", t0);
        r = dispatch_start(&d, o->store, cfg,
                           &(struct dispatch_observer){ .on_refused = on_refused }, err,
                           sizeof err);
        if (r < 0) {
                fprintf(stderr, "dispatch-driver: %s\n", err);
                return r;
        }
        dispatch_wake(d);
        r = o->reload != NULL ? reload(o, d, cfgp) : 0;
        if (r == 0)
                r = wait_done(s, o);
        printf("elapsed_ms %" PRId64 "\n", wall_ms() - t0);
        print_stats(d);
        t0 = wall_ms();
        dispatch_stop(d, (int)o->grace_ms);
        printf("stop_ms %" PRId64 "\n", wall_ms() - t0);
        pthread_mutex_lock(&observed_lock);
        printf("observed_refused %ld\n", observed_refused);
        pthread_mutex_unlock(&observed_lock);
        if (print_all(s) < 0)
                return -EIO;
        return r;
}

int main(int argc, char **argv)
{
        struct opts o = { 0 };
        struct config *cfg = NULL;
        struct store *s = NULL;
        char err[CPPO_ERRLEN];
        int r;

        if (parse_args(&o, argc, argv) < 0)
                return usage();
        if (load_config(&cfg, o.config) < 0)
                return 1;
        r = store_open(&s, o.store, &(struct store_options){ 0 }, err, sizeof err);
        if (r < 0)
                fprintf(stderr, "dispatch-driver: %s\n", err);
        else
                r = run(&o, &cfg, s);
        store_close(s);
        config_free(cfg);
        fflush(stdout);
        return r == 0 ? 0 : r == -ETIMEDOUT ? 3 : 1;
}
