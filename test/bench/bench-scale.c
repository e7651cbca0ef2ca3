/* Benchmark: the scale of a long-lived store (issue 16, "Scale test").
 *
 *   bench-scale GEN_EVENTS_PY
 *
 * Generates BENCH_EVENTS (default 1,000,000) raw EventBridge events of
 * about BENCH_EVENTS / 7 deals (gen-events.py, into a file first, so that
 * the generator does not share the CPU with the run), then replays them
 * as `cppo-notifyctl replay --state` does (event clock, notifications
 * recorded as history, a commit every 1,000 lines) into a fresh SQLite
 * store with synchronous=FULL, and prints:
 *   - events/s for each segment of 100,000 messages (is it linear?);
 *   - the peak and current RSS of this process at the end, and the store's
 *     size;
 *   - in a fresh child process: the time to open that store and load the
 *     correlation state from it (what cppo-notifyd does before it polls
 *     Kafka, pipeline_new -> corr_state_load), and the child's RSS then,
 *     idle, with no event handled.
 * Asserts nothing about speed; exits non-zero only when the run fails.
 * BENCH_KEEP=1 leaves the store and the events file in their directory.
 * BENCH_EVENTS_FILE=PATH replays that file (e.g. one BENCH_KEEP kept)
 * instead of generating one: two builds compared on the same machine
 * alternate runs, and the generator's half minute is not paid each time.
 * (`bench-scale --load DB` is the child: it loads DB and reports.)
 */
#include "bench-env.h"
#include "cppo/log.h"
#include "cppo/pipeline.h"
#include "cppo/source_file.h"
#include "cppo/store.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* the largest count an environment variable may ask for */
#define ENV_MAX 10000000

#define SEGMENT      100000
#define COMMIT_EVERY 1000
#define MAX_SEGMENTS 100

/* VmHWM (peak) or VmRSS (now) of this process in kB, from /proc; -1 when
 * it cannot tell. */
static long vm_kb(const char *field)
{
        char line[256];
        size_t flen = strlen(field);
        long kb = -1;
        FILE *f = fopen("/proc/self/status", "r");

        while (f && fgets(line, sizeof line, f))
                if (strncmp(line, field, flen) == 0 && line[flen] == ':')
                        kb = strtol(line + flen + 1, NULL, 10);
        if (f)
                fclose(f);
        return kb;
}

static long long file_size(const char *path)
{
        struct stat st;

        return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

static size_t count_lines(const char *path)
{
        char block[65536];
        size_t n = 0, got;
        FILE *f = fopen(path, "r");

        while (f && (got = fread(block, 1, sizeof block, f)) > 0)
                for (size_t i = 0; i < got; i++)
                        n += block[i] == '\n';
        if (f)
                fclose(f);
        return n;
}

/* gen-events.py's first `want` lines into path; 0 or -1. */
static int generate(const char *gen, size_t want, const char *path)
{
        char cmd[2048];

        /* about 7 messages a deal, a margin so that `want` are there; the
         * generator is cut off by head (its broken pipe is no news) */
        snprintf(cmd, sizeof cmd,
                 "python3 '%s' --deals %zu --seed 9 --malformed-pct 0 --envelopes raw "
                 "2>/dev/null | head -n %zu > '%s'",
                 gen, want / 6 + 100, want, path);
        if (system(cmd) != 0 || count_lines(path) != want) {
                fprintf(stderr, "gen-events.py gave %zu of %zu lines\n", count_lines(path), want);
                return -1;
        }
        return 0;
}

/* ---- the replay ---- */

struct run {
        struct pipeline *p;
        size_t n, since_commit, segments;
        double t0, seg_start, seg_rate[MAX_SEGMENTS];
};

static int on_line(void *ctx, const struct raw_message *m)
{
        struct run *x = ctx;
        int r = pipeline_handle(x->p, m);

        if (r == 0 && ++x->since_commit >= COMMIT_EVERY) {
                x->since_commit = 0;
                r = pipeline_commit(x->p, (int64_t)time(NULL));
        }
        if (r == 0 && ++x->n % SEGMENT == 0) {
                double t = bench_now_s();
                if (x->segments < MAX_SEGMENTS)
                        x->seg_rate[x->segments++] = SEGMENT / (t - x->seg_start);
                printf("  messages %7zu-%-7zu %8.0f events/s  (RSS %.1f MB)\n", x->n - SEGMENT + 1,
                       x->n, SEGMENT / (t - x->seg_start), (double)vm_kb("VmRSS") / 1024.0);
                fflush(stdout);
                x->seg_start = t;
        }
        return r;
}

static int replay(const char *db, const char *events, struct run *x)
{
        struct store_options so = { 0 }; /* synchronous=FULL */
        struct pipeline_options po = { .event_clock = true, .backfill = true };
        struct store *s = NULL;
        char err[512] = "";
        int r = store_open(&s, db, &so, err, sizeof err);

        po.store = s;
        if (r == 0)
                r = pipeline_new(&x->p, &po, err, sizeof err);
        x->t0 = x->seg_start = bench_now_s();
        if (r == 0)
                r = source_file_run(events, 1u << 20, on_line, x, err, sizeof err);
        if (r == 0)
                r = pipeline_commit(x->p, (int64_t)time(NULL));
        if (r == 0) {
                const struct pipeline_stats *st = pipeline_stats(x->p);
                double total = bench_now_s() - x->t0;
                printf("replayed %zu messages in %.1f s: %.0f events/s "
                       "(%llu events new, %llu duplicates, %llu notifications, %llu commits)\n",
                       x->n, total, (double)x->n / total, (unsigned long long)st->events,
                       (unsigned long long)st->duplicates, (unsigned long long)st->notifications,
                       (unsigned long long)st->commits);
                /* the state still loaded: what the daemon would hold */
                printf("RSS at the end: %.1f MB (peak %.1f MB)\n", (double)vm_kb("VmRSS") / 1024.0,
                       (double)vm_kb("VmHWM") / 1024.0);
        } else {
                fprintf(stderr, "replay failed after %zu messages: %s\n", x->n, err);
        }
        pipeline_free(x->p);
        store_close(s);
        return r;
}

/* ---- the state load, in a process of its own (a fresh exec: a forked
 * child would count its parent's pages) ---- */

static int load_once(const char *db)
{
        struct store_options so = { 0 };
        struct pipeline_options po = { 0 };
        struct pipeline *p = NULL;
        struct store *s = NULL;
        char err[512] = "";
        double t0 = bench_now_s(), t1;
        long before = vm_kb("VmRSS");
        int r = store_open(&s, db, &so, err, sizeof err);

        po.store = s;
        if (r == 0)
                r = pipeline_new(&p, &po, err, sizeof err);
        t1 = bench_now_s();
        if (r == 0)
                printf("state load in a fresh process (store_open + corr_state_load): %.2f s; "
                       "RSS idle after it %.1f MB (peak %.1f MB, %.1f MB before the load)\n",
                       t1 - t0, (double)vm_kb("VmRSS") / 1024.0, (double)vm_kb("VmHWM") / 1024.0,
                       (double)before / 1024.0);
        else
                fprintf(stderr, "state load failed: %s\n", err);
        fflush(stdout);
        pipeline_free(p);
        store_close(s);
        return r;
}

static int load_in_child(const char *db)
{
        char self[] = "/proc/self/exe", load[] = "--load";
        char *argv[] = { self, load, (char *)db, NULL };
        int status = 0;
        pid_t pid;

        fflush(stdout);
        pid = fork();
        if (pid < 0)
                return -1;
        if (pid == 0) {
                execv(self, argv);
                _exit(127);
        }
        if (waitpid(pid, &status, 0) != pid)
                return -1;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
        size_t want = bench_env_size("BENCH_EVENTS", 1000000, ENV_MAX);
        char dir[] = "/tmp/bench-scale.XXXXXX", db[512], events[512], wal[600];
        struct run x = { 0 };
        bool keep_events = false;
        double t0;
        int r;

        if (argc == 3 && strcmp(argv[1], "--load") == 0) {
                log_set_level(LOG_LEVEL_WARNING);
                return load_once(argv[2]) == 0 ? 0 : 1;
        }
        if (argc != 2) {
                fprintf(stderr, "usage: bench-scale GEN_EVENTS_PY\n");
                return 2;
        }
        log_set_level(LOG_LEVEL_WARNING);
        if (mkdtemp(dir) == NULL)
                return 1;
        snprintf(db, sizeof db, "%s/scale.db", dir);
        snprintf(wal, sizeof wal, "%s-wal", db);
        snprintf(events, sizeof events, "%s/events.jsonl", dir);
        t0 = bench_now_s();
        if (getenv("BENCH_EVENTS_FILE") && *getenv("BENCH_EVENTS_FILE")) {
                /* given: not ours to remove at the end */
                snprintf(events, sizeof events, "%s", getenv("BENCH_EVENTS_FILE"));
                keep_events = true;
                r = 0;
                printf("%zu events of %s\n", count_lines(events), events);
        } else {
                r = generate(argv[1], want, events);
                printf("%zu raw events of about %zu deals generated in %.1f s (%.0f MB)\n", want,
                       want / 7, bench_now_s() - t0, (double)file_size(events) / 1e6);
        }
        fflush(stdout);
        if (r == 0)
                r = replay(db, events, &x);
        if (r == 0) {
                printf("events/s per segment of %d messages:", SEGMENT);
                for (size_t i = 0; i < x.segments; i++)
                        printf(" %.0f", x.seg_rate[i]);
                printf("\nlast segment / first: %.2f\n",
                       x.segments ? x.seg_rate[x.segments - 1] / x.seg_rate[0] : 0);
                printf("store %.1f MB (db + wal, after the checkpoint at close)\n",
                       (double)(file_size(db) + file_size(wal)) / 1e6);
                fflush(stdout);
                r = load_in_child(db);
        }
        if (getenv("BENCH_KEEP") == NULL) {
                if (!keep_events)
                        unlink(events);
                unlink(db);
                unlink(wal);
                rmdir(dir);
        } else {
                fprintf(stderr, "store and events kept in %s\n", dir);
        }
        return r < 0 ? 1 : 0;
}
