/* cppo-notify — the PostgreSQL store (see include/cppo/store.h): the
 * connection.
 *
 * One libpq connection per handle (the daemon's batch writer, the
 * dispatcher and the AWS sync each open their own, as with SQLite). This
 * file opens, checks and closes it, runs statements and maps their
 * failures, holds the ops table and the fence; the table groups live in
 * store_pg_<group>.c (store_pg_internal.h).
 */
#include "store_pg_internal.h"

#include "cppo/error.h"

#include <libpq-fe.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- parameters ---- */

/* The next parameter slot, or NULL (overflow recorded) when all are used. */
static int param_slot(struct pg_params *p)
{
        if (p->n >= PG_PARAMS_MAX) {
                p->overflow = true;
                return -1;
        }
        return p->n++;
}

void pg_param_text(struct pg_params *p, const char *s)
{
        int i = param_slot(p);

        if (i >= 0) {
                p->v[i] = s;
                p->len[i] = 0;
                p->fmt[i] = 0;
        }
}

void pg_param_int(struct pg_params *p, int64_t v)
{
        int i = param_slot(p);

        if (i >= 0) {
                snprintf(p->num[i], sizeof p->num[i], "%" PRId64, v);
                p->v[i] = p->num[i];
                p->len[i] = 0;
                p->fmt[i] = 0;
        }
}

void pg_param_bool(struct pg_params *p, bool v)
{
        pg_param_text(p, v ? "t" : "f");
}

void pg_param_bytes(struct pg_params *p, const void *data, size_t len)
{
        int i = param_slot(p);

        if (i < 0)
                return;
        if (len > INT32_MAX) {
                p->overflow = true;
                return;
        }
        p->v[i] = data ? data : "";
        p->len[i] = (int)len;
        p->fmt[i] = 1;
}

void pg_params_free(struct pg_params *p)
{
        for (int i = 0; i < p->n_owned; i++)
                free(p->owned[i]);
        *p = (struct pg_params){ 0 };
}

/* ---- errors ---- */

int pg_sqlstate_errno(const char *state)
{
        static const struct {
                const char *state;
                int code;
        } map[] = {
                { "40001", -EBUSY },   /* serialization_failure */
                { "40P01", -EBUSY },   /* deadlock_detected */
                { "55P03", -EBUSY },   /* lock_not_available (lock_timeout) */
                { "53100", -ENOSPC },  /* disk_full */
                { "25006", -EROFS },   /* read_only_sql_transaction */
                { "XX001", -EBADMSG }, /* data_corrupted */
                { "XX002", -EBADMSG }, /* index_corrupted */
        };

        for (size_t i = 0; state && i < sizeof map / sizeof map[0]; i++)
                if (strcmp(state, map[i].state) == 0)
                        return map[i].code;
        return -EIO;
}

/* libpq's messages end with a newline; the log line does not. */
static void set_last_error(struct store_pg *s, const char *prefix, const char *msg)
{
        size_t n;

        snprintf(s->last_error, sizeof s->last_error, "%s%s", prefix, msg ? msg : "");
        n = strlen(s->last_error);
        while (n > 0 && (s->last_error[n - 1] == '\n' || s->last_error[n - 1] == ' '))
                s->last_error[--n] = '\0';
}

int pg_error(struct store_pg *s, const PGresult *res)
{
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

        if (PQstatus(s->conn) != CONNECTION_OK) {
                set_last_error(s, "connection lost: ", PQerrorMessage(s->conn));
                return -EIO;
        }
        set_last_error(s, "", res ? PQresultErrorMessage(res) : PQerrorMessage(s->conn));
        if (state) {
                size_t n = strlen(s->last_error);
                snprintf(s->last_error + n, sizeof s->last_error - n, " (sqlstate %s)", state);
        }
        return pg_sqlstate_errno(state);
}

/* ---- running statements ---- */

static int prepare_once(struct store_pg *s, int stmt, const char *sql, int n)
{
        char name[24];
        PGresult *res;
        int r = 0;

        if (s->prepared[stmt])
                return 0;
        snprintf(name, sizeof name, "cppo_%d", stmt);
        res = PQprepare(s->conn, name, sql, n, NULL);
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
                r = pg_error(s, res);
        else
                s->prepared[stmt] = true;
        PQclear(res);
        return r;
}

int pg_run(struct store_pg *s, int stmt, const char *sql, const struct pg_params *p, PGresult **out,
           int64_t *rows)
{
        static const struct pg_params none = { 0 };
        ExecStatusType st;
        PGresult *res;
        int r = 0;

        if (out)
                *out = NULL;
        if (p == NULL)
                p = &none;
        if (p->overflow || stmt >= PG_ST_N)
                return -E2BIG;
        if (stmt >= 0) {
                char name[24];
                r = prepare_once(s, stmt, sql, p->n);
                if (r < 0)
                        return r;
                snprintf(name, sizeof name, "cppo_%d", stmt);
                res = PQexecPrepared(s->conn, name, p->n, p->v, p->len, p->fmt, 0);
        } else {
                res = PQexecParams(s->conn, sql, p->n, NULL, p->v, p->len, p->fmt, 0);
        }
        st = PQresultStatus(res);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
                r = pg_error(s, res);
                PQclear(res);
                return r;
        }
        if (rows)
                *rows = st == PGRES_TUPLES_OK ? PQntuples(res)
                                              : strtoll(PQcmdTuples(res), NULL, 10);
        if (out)
                *out = res;
        else
                PQclear(res);
        return 0;
}

int pg_exec(struct store_pg *s, const char *sql, const struct pg_params *p)
{
        return pg_run(s, PG_ST_NONE, sql, p, NULL, NULL);
}

int pg_exec_count(struct store_pg *s, const char *sql, const struct pg_params *p, int64_t *rows)
{
        return pg_run(s, PG_ST_NONE, sql, p, NULL, rows);
}

int pg_query(struct store_pg *s, const char *sql, const struct pg_params *p, PGresult **res)
{
        return pg_run(s, PG_ST_NONE, sql, p, res, NULL);
}

int pg_count_sql(struct store_pg *s, const char *sql, const struct pg_params *p, int64_t *out)
{
        PGresult *res;
        int r = pg_query(s, sql, p, &res);

        if (r < 0)
                return r;
        if (PQntuples(res) != 1 || PQnfields(res) < 1)
                r = -EIO;
        else
                *out = pg_col_int(res, 0, 0);
        PQclear(res);
        return r;
}

int pg_exec_script(struct store_pg *s, const char *sql)
{
        PGresult *res = PQexec(s->conn, sql);
        int r = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : pg_error(s, res);

        PQclear(res);
        return r;
}

bool pg_in_transaction(struct store_pg *s)
{
        PGTransactionStatusType t = PQtransactionStatus(s->conn);

        return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

/* ---- reading results ---- */

const char *pg_col_text(const PGresult *res, int r, int c)
{
        return PQgetisnull(res, r, c) ? NULL : PQgetvalue(res, r, c);
}

int64_t pg_col_int(const PGresult *res, int r, int c)
{
        const char *t = pg_col_text(res, r, c);

        return t ? strtoll(t, NULL, 10) : 0;
}

bool pg_col_bool(const PGresult *res, int r, int c)
{
        const char *t = pg_col_text(res, r, c);

        return t && (t[0] == 't' || (t[0] >= '1' && t[0] <= '9') || t[0] == '-');
}

int pg_col_bytes(const PGresult *res, int r, int c, char **out, size_t *len)
{
        const char *t = pg_col_text(res, r, c);
        unsigned char *raw = NULL;
        size_t n = 0;
        char *copy;

        if (t) {
                raw = PQunescapeBytea((const unsigned char *)t, &n);
                if (raw == NULL)
                        return -ENOMEM;
        }
        copy = malloc(n + 1);
        if (copy == NULL) {
                PQfreemem(raw);
                return -ENOMEM;
        }
        if (n > 0)
                memcpy(copy, raw, n);
        copy[n] = '\0';
        PQfreemem(raw);
        *out = copy;
        *len = n;
        return 0;
}

/* ---- transactions and the fence ---- */

static int pg_begin(struct store *base)
{
        return pg_exec(impl(base), "BEGIN", NULL);
}

static int pg_rollback(struct store *base)
{
        return pg_exec(impl(base), "ROLLBACK", NULL);
}

/* Inside the transaction, before COMMIT: whether we still lead
 * (PG_FENCE_LEADER), so no batch commits after a takeover or once our
 * lock connection ended. */
static int check_fence(struct store_pg *s)
{
        struct pg_params p = { 0 };
        PGresult *res;
        int64_t now = -1;
        bool held = false;
        int r;

        pg_param_int(&p, s->lock_pid);
        r = pg_run(s, PG_ST_FENCE, PG_FENCE_LEADER("$1"), &p, &res, NULL);
        if (r < 0)
                return r;
        if (PQntuples(res) == 1 && PQnfields(res) == 2) {
                now = pg_col_int(res, 0, 0);
                held = pg_col_bool(res, 0, 1);
        }
        PQclear(res);
        return pg_fence_check(s, now, held);
}

int pg_fence_check(struct store_pg *s, int64_t current, bool held)
{
        if (current == s->epoch && held)
                return 0;
        if (current == s->epoch)
                snprintf(s->last_error, sizeof s->last_error,
                         "leadership lost: the leader lock of epoch %" PRId64
                         " is no longer granted to server process %d",
                         s->epoch, s->lock_pid);
        else
                snprintf(s->last_error, sizeof s->last_error,
                         "leadership lost: epoch %" PRId64 " is no longer current (now %" PRId64
                         ")",
                         s->epoch, current);
        return -ENOLCK;
}

/* COMMIT of a transaction a failed statement aborted answers "ROLLBACK"
 * without an error: that is a failure here, never a silent loss. */
static int pg_commit(struct store *base)
{
        struct store_pg *s = impl(base);
        PGresult *res;
        int r = s->epoch > 0 ? check_fence(s) : 0;

        if (r < 0) {
                char why[PG_ERROR_MAX];
                snprintf(why, sizeof why, "%s", s->last_error);
                (void)pg_exec(s, "ROLLBACK", NULL);
                snprintf(s->last_error, sizeof s->last_error, "%s", why);
                return r;
        }
        res = PQexec(s->conn, "COMMIT");
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
                r = pg_error(s, res);
        else if (strcmp(PQcmdStatus(res), "COMMIT") != 0) {
                set_last_error(s, "", "the transaction had failed and was rolled back");
                r = -EIO;
        }
        PQclear(res);
        return r;
}

static void set_fence(struct store_pg *s, const struct store_fence_token *t)
{
        bool on = t != NULL && t->epoch > 0;

        s->epoch = on ? t->epoch : 0;
        s->lock_pid = on ? t->lock_pid : 0; /* < 0 stays: fenced statements refuse */
}

static int pg_fence(struct store *base, const struct store_fence_token *t)
{
        set_fence(impl(base), t);
        return 0;
}

/* ---- counts and health ---- */

static int pg_count(struct store *base, const char *table, int64_t *out)
{
        char sql[96];
        int r = store_count_query(table, sql, sizeof sql);

        return r < 0 ? r : pg_count_sql(impl(base), sql, NULL, out);
}

static void pg_last_error(struct store *base, char *buf, size_t len)
{
        snprintf(buf, len, "%s", impl(base)->last_error);
}

static int pg_verify(struct store *base, char *err, size_t errlen)
{
        struct store_pg *s = impl(base);
        PGresult *res;
        int r;

        if (PQstatus(s->conn) != CONNECTION_OK)
                return error_set(err, errlen, -EIO, "the store %s: connection lost: %s", s->target,
                                 PQerrorMessage(s->conn));
        r = pg_query(s,
                     "SELECT pg_is_in_recovery(), current_setting('transaction_read_only') = 'on'",
                     NULL, &res);
        if (r < 0)
                return error_set(err, errlen, r, "the store %s cannot be checked: %s", s->target,
                                 s->last_error);
        if (!s->read_only && pg_col_bool(res, 0, 0))
                r = error_set(err, errlen, -EROFS, "the store %s is a server in recovery",
                              s->target);
        else if (!s->read_only && pg_col_bool(res, 0, 1))
                r = error_set(err, errlen, -EROFS, "the store %s is read-only", s->target);
        PQclear(res);
        return r;
}

static int pg_integrity(struct store *base, char *err, size_t errlen)
{
        struct store_pg *s = impl(base);
        int v = 0, r = pg_schema_version(base, &v);

        if (r < 0)
                return error_set(err, errlen, r, "the store %s cannot be checked: %s", s->target,
                                 s->last_error);
        if (!pg_schema_known(v))
                return error_set(err, errlen, -EBADMSG,
                                 "the store %s has schema version %d, not one this program knows",
                                 s->target, v);
        return 0;
}

static void pg_close(struct store *base)
{
        struct store_pg *s = impl(base);

        PQfinish(s->conn);
        free(s->target);
        free(s);
}

static const struct store_ops pg_ops = {
        .name = "postgresql",
        .close = pg_close,
        .begin = pg_begin,
        .commit = pg_commit,
        .rollback = pg_rollback,
        .ledger_add = pg_ledger_add,
        .reject = pg_reject,
        .count = pg_count,
        .list_rejected = pg_list_rejected,
        .inbox_add = pg_inbox_add,
        .inbox_pending = pg_inbox_pending,
        .inbox_take = pg_inbox_take,
        .list_authorizations = pg_list_authorizations,
        .get_authorization = pg_get_authorization,
        .list_offers = pg_list_offers,
        .list_holds = pg_list_holds,
        .get_offer = pg_get_offer,
        .list_agreements = pg_list_agreements,
        .schema_version = pg_schema_version,
        .apply = pg_apply,
        .load = pg_load,
        .notifications_unrouted = pg_notifications_unrouted,
        .notification_routed = pg_notification_routed,
        .delivery_add = pg_delivery_add,
        .delivery_due = pg_delivery_due,
        .delivery_claim = pg_delivery_claim,
        .delivery_finish = pg_delivery_finish,
        .delivery_requeue_inflight = pg_delivery_requeue_inflight,
        .delivery_list = pg_delivery_list,
        .delivery_attempts = pg_delivery_attempts,
        .delivery_retry = pg_delivery_retry,
        .delivery_counts = pg_delivery_counts,
        .delivery_get = pg_delivery_get,
        .notifications_unmatched = pg_notifications_unmatched,
        .notification_backfill = pg_notification_backfill,
        .notifications_backfill_pending = pg_notifications_backfill_pending,
        .get_rejected = pg_get_rejected,
        .rejected_requeue = pg_rejected_requeue,
        .rejected_requeue_of = pg_rejected_requeue_of,
        .rejected_settle = pg_rejected_settle,
        .list_link_changes = pg_list_link_changes,
        .delivery_defer = pg_delivery_defer,
        .receiver_health_put = pg_receiver_health_put,
        .receiver_list = pg_receiver_list,
        .last_error = pg_last_error,
        .verify = pg_verify,
        .integrity = pg_integrity,
        .aws_get = pg_aws_get,
        .aws_put = pg_aws_put,
        .aws_refresh_pending = pg_aws_refresh_pending,
        .aws_refresh_done = pg_aws_refresh_done,
        .aws_holds_to_check = pg_aws_holds_to_check,
        .aws_lookup_put = pg_aws_lookup_put,
        .aws_lookup_get = pg_aws_lookup_get,
        .aws_source_counts = pg_aws_source_counts,
        .fence = pg_fence,
        .prune = pg_prune,
        .prune_count = pg_prune_count,
        .reclaim = pg_reclaim,
        .compact = pg_compact,
        .table_stats = pg_table_stats,
};

/* Server notices (e.g. "there is no transaction in progress") would go
 * to stderr: the store reports through its return codes instead. */
static void ignore_notice(void *arg, const char *message)
{
        (void)arg;
        (void)message;
}

/* The connection: the URL expanded as "dbname", then our settings, which
 * win over the URL's (expand_dbname: later keywords override it). */
static PGconn *connect_db(const char *url, const struct store_options *o)
{
        char options[160];
        const char *keys[8], *values[8];
        int n = 0;

        snprintf(options, sizeof options, "-c lock_timeout=%d%s",
                 o->busy_timeout_ms > 0 ? o->busy_timeout_ms : 5000,
                 o->read_only ? " -c default_transaction_read_only=on" : "");
        keys[n] = "dbname", values[n++] = url;
        keys[n] = "connect_timeout", values[n++] = "10";
        keys[n] = "application_name", values[n++] = "cppo-notify";
        keys[n] = "client_encoding", values[n++] = "UTF8";
        keys[n] = "options", values[n++] = options;
        if (o->password)
                keys[n] = "password", values[n++] = o->password;
        keys[n] = NULL, values[n] = NULL;
        return PQconnectdbParams(keys, values, 1);
}

int store_pg_open(struct store **out, const char *url, const struct store_options *o, char *err,
                  size_t errlen)
{
        struct store_pg *s = calloc(1, sizeof *s);
        char shown[512];
        int r = 0;

        if (s == NULL)
                return -ENOMEM;
        store_target_redact(url, shown, sizeof shown);
        s->base.ops = &pg_ops;
        s->read_only = o->read_only;
        set_fence(s, &o->fence);
        s->target = strdup(shown);
        s->conn = connect_db(url, o);
        if (s->target == NULL || s->conn == NULL) {
                r = -ENOMEM;
                goto fail;
        }
        if (PQstatus(s->conn) != CONNECTION_OK) {
                set_last_error(s, "", PQerrorMessage(s->conn));
                r = error_set(err, errlen, -EIO, "cannot open the store %s: %s", shown,
                              s->last_error);
                goto fail;
        }
        PQsetNoticeProcessor(s->conn, ignore_notice, NULL);
        if (!o->read_only)
                r = pg_migrate(s, err, errlen);
        if (r < 0)
                goto fail;
        *out = &s->base;
        return 0;
fail:
        pg_close(&s->base);
        return r;
}
