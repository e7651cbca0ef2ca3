/* cppo-notify — leader election with fencing (see include/cppo/leader.h). */
#include "cppo/leader.h"

#include "cppo/clock.h"
#include "cppo/error.h"
#include "cppo/store.h"

#include <libpq-fe.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LEADER_ERROR_MAX    512
#define LEADER_IDENTITY_MAX 255

struct leader {
        PGconn *conn;
        char *target, *password, *identity;
        int takeover_s, poll_s;
        int64_t epoch;       /* > 0 while leader */
        int lock_pid;        /* the server process holding the lock, as it says */
        int64_t verified_at; /* monotonic ms of the last round trip that proved it */
        bool lost;           /* the leadership ended: never leader again */
        char error[LEADER_ERROR_MAX];
};

/* ---- the connection ---- */

/* The detection budget of leader.h (seconds, at least 3 so that the
 * keepalive arithmetic stays in whole seconds). */
static int detect_budget(const struct leader *l)
{
        int d = l->takeover_s - l->poll_s - 1;

        return d < 3 ? 3 : d;
}

/* libpq's message, one line, without the trailing newline. */
static void set_error(struct leader *l, const char *what, const char *pq)
{
        size_t n;

        snprintf(l->error, sizeof l->error, "%s%s%s", what, pq && pq[0] ? ": " : "", pq ? pq : "");
        n = strlen(l->error);
        while (n > 0 && (l->error[n - 1] == '\n' || l->error[n - 1] == ' '))
                l->error[--n] = '\0';
        for (char *p = l->error; *p; p++)
                if (*p == '\n')
                        *p = ' ';
}

/* Server side: the server drops a silent client's connection (and so the
 * lock) within the budget; client side the same, so that this process
 * notices a dead server or network instead of waiting forever in a round
 * trip. Our keywords follow the URL's ("dbname" expanded first), so they
 * win over it. */
static int connect_lock(struct leader *l)
{
        int d = detect_budget(l), idle = d / 2, interval = (d - d / 2) / 3;
        char options[256], sidle[16], sinterval[16], stimeout[16], sconnect[16];
        const char *keys[16], *values[16];
        int n = 0;

        if (interval < 1)
                interval = 1;
        snprintf(options, sizeof options,
                 "-c tcp_keepalives_idle=%d -c tcp_keepalives_interval=%d "
                 "-c tcp_keepalives_count=3 -c tcp_user_timeout=%d -c lock_timeout=%d "
                 "-c statement_timeout=%d -c idle_in_transaction_session_timeout=0",
                 idle, interval, d * 1000, d * 1000, d * 1000);
        snprintf(sidle, sizeof sidle, "%d", idle);
        snprintf(sinterval, sizeof sinterval, "%d", interval);
        snprintf(stimeout, sizeof stimeout, "%d", d * 1000);
        snprintf(sconnect, sizeof sconnect, "%d", d);
        keys[n] = "dbname", values[n++] = l->target;
        keys[n] = "connect_timeout", values[n++] = sconnect;
        keys[n] = "application_name", values[n++] = LEADER_APPLICATION_NAME;
        keys[n] = "keepalives", values[n++] = "1";
        keys[n] = "keepalives_idle", values[n++] = sidle;
        keys[n] = "keepalives_interval", values[n++] = sinterval;
        keys[n] = "keepalives_count", values[n++] = "3";
        keys[n] = "tcp_user_timeout", values[n++] = stimeout;
        keys[n] = "options", values[n++] = options;
        if (l->password)
                keys[n] = "password", values[n++] = l->password;
        keys[n] = NULL, values[n] = NULL;
        PQfinish(l->conn);
        l->conn = PQconnectdbParams(keys, values, 1);
        if (l->conn == NULL)
                return -ENOMEM;
        if (PQstatus(l->conn) != CONNECTION_OK) {
                set_error(l, "cannot open the leader lock connection", PQerrorMessage(l->conn));
                return -EIO;
        }
        return 0;
}

static bool connected(const struct leader *l)
{
        return l->conn != NULL && PQstatus(l->conn) == CONNECTION_OK;
}

/* One statement; the result when it returned status want, else NULL with
 * the error recorded. */
static PGresult *run(struct leader *l, const char *sql, int nparams, const char *const *params,
                     ExecStatusType want)
{
        PGresult *res = PQexecParams(l->conn, sql, nparams, NULL, params, NULL, NULL, 0);

        if (PQresultStatus(res) == want)
                return res;
        set_error(l, "leader lock connection", PQerrorMessage(l->conn));
        PQclear(res);
        return NULL;
}

static int exec_ok(struct leader *l, const char *sql)
{
        PGresult *res = run(l, sql, 0, NULL, PGRES_COMMAND_OK);

        PQclear(res);
        return res ? 0 : -EIO;
}

/* ---- taking the lead ---- */

/* A query whose one value is "t" or "f". 1, 0, or -EIO. */
static int query_bool(struct leader *l, const char *sql)
{
        PGresult *res = run(l, sql, 0, NULL, PGRES_TUPLES_OK);
        int r;

        if (res == NULL)
                return -EIO;
        r = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
        PQclear(res);
        return r;
}

/* The increment waits for a deposed leader's FOR SHARE (leader.h); it is
 * bounded by lock_timeout (the detection budget). */
static int bump_epoch(struct leader *l)
{
        char since[24];
        const char *params[2] = { l->identity, since };
        PGresult *res;

        snprintf(since, sizeof since, "%" PRId64, clock_wall_s());
        if (exec_ok(l, "BEGIN") < 0)
                return -EIO;
        res = run(l,
                  "UPDATE ha_leader SET epoch = epoch + 1, holder = $1, since = $2 "
                  "WHERE id = 1 RETURNING epoch, pg_backend_pid()",
                  2, params, PGRES_TUPLES_OK);
        if (res == NULL || PQntuples(res) != 1) {
                bool timeout = res == NULL && strstr(l->error, "lock timeout") != NULL;
                if (res != NULL)
                        set_error(l, "ha_leader has no row (is the schema migrated?)", NULL);
                PQclear(res);
                (void)exec_ok(l, "ROLLBACK");
                return timeout ? -EBUSY : -EIO;
        }
        l->epoch = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        /* from the server: behind a pooler, libpq's PQbackendPID() is the
         * pooler's key, not the process pg_locks names */
        l->lock_pid = (int)strtol(PQgetvalue(res, 0, 1), NULL, 10);
        PQclear(res);
        if (exec_ok(l, "COMMIT") < 0 || l->epoch <= 0) {
                l->epoch = 0;
                return -EIO;
        }
        return 0;
}

int leader_try(struct leader *l)
{
        int r;

        if (l->epoch > 0)
                return 1;
        if (l->lost)
                return -ENOLCK;
        if (!connected(l) && (r = connect_lock(l)) < 0)
                return r;
        r = query_bool(l, "SELECT pg_try_advisory_lock(" LEADER_LOCK_KEY ")");
        if (r <= 0)
                return r;
        r = bump_epoch(l);
        if (r < 0) { /* give the lock back: another standby may manage */
                char why[LEADER_ERROR_MAX];
                snprintf(why, sizeof why, "%s", l->error);
                (void)query_bool(l, "SELECT pg_advisory_unlock(" LEADER_LOCK_KEY ")");
                snprintf(l->error, sizeof l->error, "%s", why);
                return r;
        }
        l->verified_at = clock_mono_ms();
        l->error[0] = '\0';
        return 1;
}

/* ---- staying leader ---- */

static int lose(struct leader *l, const char *why, const char *detail)
{
        set_error(l, why, detail);
        l->epoch = 0;
        l->lost = true;
        return -ENOLCK;
}

/* One round trip: the lock is granted to this session and ha_leader still
 * holds our epoch (an operator may bump it by hand to depose us). */
static int verify(struct leader *l)
{
        PGresult *res = run(
            l,
            "SELECT (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
            "AND pid = pg_backend_pid() AND granted AND classid = " LEADER_LOCK_CLASSID
            " AND objid = " LEADER_LOCK_OBJID " AND objsubid = 1), "
            "(SELECT epoch FROM ha_leader WHERE id = 1)",
            0, NULL, PGRES_TUPLES_OK);
        int64_t held, epoch;

        if (res == NULL)
                return lose(l, "leader lock connection lost", NULL);
        held = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        epoch = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
        PQclear(res);
        if (held != 1)
                return lose(l, "the leader lock is no longer held by this session", NULL);
        if (epoch != l->epoch) {
                char why[96];
                snprintf(why, sizeof why,
                         "epoch %" PRId64 " is no longer current (now %" PRId64 ")", l->epoch,
                         epoch);
                return lose(l, why, NULL);
        }
        l->verified_at = clock_mono_ms();
        return 0;
}

int leader_check(struct leader *l)
{
        if (l->epoch <= 0)
                return -ENOLCK;
        /* Reads what arrived without waiting: a terminated backend's
         * FATAL and the socket's end show up here. */
        if (PQconsumeInput(l->conn) == 0 || PQstatus(l->conn) != CONNECTION_OK)
                return lose(l, "leader lock connection lost", PQerrorMessage(l->conn));
        if (clock_mono_ms() - l->verified_at < (int64_t)l->poll_s * 1000)
                return 0;
        return verify(l);
}

/* ---- the rest ---- */

int64_t leader_epoch(const struct leader *l)
{
        return l->epoch;
}

struct store_fence_token leader_token(const struct leader *l)
{
        struct store_fence_token t = { 0 };

        if (l->epoch > 0) {
                t.epoch = l->epoch;
                /* fail closed: a token without a live lock refuses everything */
                t.lock_pid = connected(l) && l->lock_pid > 0 ? l->lock_pid : -1;
        }
        return t;
}

int leader_fd(const struct leader *l)
{
        return connected(l) ? PQsocket(l->conn) : -1;
}

const char *leader_error(const struct leader *l)
{
        return l->error;
}

static char *dup_or_null(const char *s, bool *failed)
{
        char *d = s ? strdup(s) : NULL;

        if (s && d == NULL)
                *failed = true;
        return d;
}

int leader_new(struct leader **out, const struct leader_options *o, char *err, size_t errlen)
{
        struct leader *l;
        bool nomem = false;
        int r;

        *out = NULL;
        if (o->target == NULL || !store_target_is_pg(o->target) || o->identity == NULL ||
            strlen(o->identity) > LEADER_IDENTITY_MAX || o->poll_s < 1 ||
            o->takeover_s <= o->poll_s)
                return error_set(err, errlen, -EINVAL,
                                 "leader election needs a postgresql:// store and takeover > "
                                 "poll >= 1s");
        l = calloc(1, sizeof *l);
        if (l == NULL)
                return -ENOMEM;
        l->target = dup_or_null(o->target, &nomem);
        l->password = dup_or_null(o->password, &nomem);
        l->identity = dup_or_null(o->identity, &nomem);
        l->takeover_s = o->takeover_s;
        l->poll_s = o->poll_s;
        r = nomem ? -ENOMEM : connect_lock(l);
        if (r < 0) {
                error_set(err, errlen, r, "%s", r == -ENOMEM ? "out of memory" : l->error);
                leader_free(l);
                return r;
        }
        *out = l;
        return 0;
}

void leader_free(struct leader *l)
{
        if (l == NULL)
                return;
        /* Released before closing: the backend's exit after PQfinish is
         * asynchronous, and a standby asking meanwhile would wait a poll. */
        if (l->epoch > 0 && connected(l))
                (void)query_bool(l, "SELECT pg_advisory_unlock(" LEADER_LOCK_KEY ")");
        PQfinish(l->conn); /* the server releases whatever the session held */
        if (l->password) {
                memset(l->password, 0, strlen(l->password));
                free(l->password);
        }
        free(l->target);
        free(l->identity);
        free(l);
}
