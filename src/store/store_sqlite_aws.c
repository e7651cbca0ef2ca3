/* cppo-notify — the SQLite store's AWS Catalog sync tables: the sync's own
 * state, change sets to describe again, and the lookups of held offers. */
#include "store_sqlite_internal.h"

#include "cppo/clock.h"
#include "cppo/error.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* A change set to describe, once per id while pending (a duplicate event
 * in another batch must not describe it twice). created_at is the
 * wall clock: the daemon's batch has no other. */
int sqlite_aws_refresh_add(struct store_sqlite *s, const char *change_set_id)
{
        const char *text[] = { change_set_id };
        const int64_t ints[] = { clock_wall_s() };

        return sqlite_run_stmt(
            s,
            "INSERT INTO aws_refresh (change_set_id, created_at) SELECT ?1, ?2 "
            "WHERE NOT EXISTS (SELECT 1 FROM aws_refresh WHERE change_set_id = ?1 "
            "AND done_at IS NULL)",
            text, 1, ints, 1);
}

int sqlite_aws_get(struct store *base, const char *key, char *buf, size_t len)
{
        struct store_sqlite *s = impl(base);
        sqlite3_stmt *st;
        int rc, r = -ENOENT;

        if (sqlite3_prepare_v2(s->db, "SELECT value FROM aws_state WHERE key = ?", -1, &st, NULL) !=
            SQLITE_OK)
                return -EIO;
        sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
        rc = step_row(st);
        if (rc > 0)
                r = snprintf(buf, len, "%s", col_text(st, 0) ? col_text(st, 0) : "") < (int)len
                        ? 0
                        : -E2BIG;
        else if (rc < 0)
                r = rc;
        sqlite3_finalize(st);
        return r;
}

int sqlite_aws_put(struct store *base, const char *key, const char *value, int64_t now)
{
        const char *text[] = { key, value };
        const int64_t ints[] = { now };

        return sqlite_run_stmt(impl(base),
                               "INSERT OR REPLACE INTO aws_state (key, value, updated_at) "
                               "VALUES (?,?,?)",
                               text, 2, ints, 1);
}

int sqlite_aws_refresh_pending(struct store *base, int64_t limit,
                               int (*fn)(void *ctx, const struct store_aws_refresh *e), void *ctx)
{
        struct store_sqlite *s = impl(base);
        struct strlist ids = { 0 }, sets = { 0 };
        sqlite3_stmt *st;
        int r = 0;

        if (sqlite3_prepare_v2(s->db,
                               "SELECT id, change_set_id FROM aws_refresh WHERE done_at "
                               "IS NULL ORDER BY id LIMIT ?",
                               -1, &st, NULL) != SQLITE_OK)
                return -EIO;
        sqlite3_bind_int64(st, 1, limit > 0 && limit < 1024 ? limit : 1024);
        /* every row first: fn may write (mark it done) */
        while (scan_row(st, &r)) {
                char id[32];
                snprintf(id, sizeof id, "%lld", (long long)sqlite3_column_int64(st, 0));
                if (strlist_add(&ids, id) < 0 || strlist_add(&sets, col_text(st, 1)) < 0)
                        r = -ENOMEM;
        }
        sqlite3_finalize(st);
        for (size_t i = 0; r == 0 && i < ids.n; i++) {
                struct store_aws_refresh e = { .id = strtoll(ids.v[i], NULL, 10),
                                               .change_set_id = sets.v[i] };
                r = fn(ctx, &e);
        }
        strlist_clear(&ids);
        strlist_clear(&sets);
        return r;
}

int sqlite_aws_refresh_done(struct store *base, int64_t id, const char *outcome, int64_t now)
{
        const char *text[] = { outcome };
        const int64_t ints[] = { now, id };

        return sqlite_run_stmt(impl(base),
                               "UPDATE aws_refresh SET outcome = ?1, done_at = ?2 "
                               "WHERE id = ?3",
                               text, 1, ints, 2);
}

int sqlite_aws_holds_to_check(struct store *base, int64_t checked_before, int64_t limit,
                              int (*fn)(void *ctx, const char *offer_id), void *ctx)
{
        struct store_sqlite *s = impl(base);
        struct strlist ids = { 0 };
        sqlite3_stmt *st;
        int r = 0;

        if (sqlite3_prepare_v2(s->db,
                               "SELECT h.offer_id FROM holds h LEFT JOIN "
                               "aws_offer_lookups l ON l.offer_id = h.offer_id "
                               "WHERE l.offer_id IS NULL OR l.checked_at < ? "
                               "ORDER BY h.created_at, h.offer_id LIMIT ?",
                               -1, &st, NULL) != SQLITE_OK)
                return -EIO;
        sqlite3_bind_int64(st, 1, checked_before);
        sqlite3_bind_int64(st, 2, limit > 0 && limit < 1024 ? limit : 1024);
        while (scan_row(st, &r))
                r = strlist_add(&ids, col_text(st, 0));
        sqlite3_finalize(st);
        for (size_t i = 0; r == 0 && i < ids.n; i++)
                r = fn(ctx, ids.v[i]);
        strlist_clear(&ids);
        return r;
}

int sqlite_aws_lookup_put(struct store *base, const struct store_aws_lookup *l)
{
        const char *text[] = { l->offer_id, l->outcome, l->authorization_id, l->detail };
        const int64_t ints[] = { l->checked_at };

        return sqlite_run_stmt(impl(base),
                               "INSERT OR REPLACE INTO aws_offer_lookups (offer_id, outcome, "
                               "authorization_id, detail, checked_at) VALUES (?,?,?,?,?)",
                               text, 4, ints, 1);
}

int sqlite_aws_lookup_get(struct store *base, const char *offer_id,
                          int (*fn)(void *ctx, const struct store_aws_lookup *l), void *ctx)
{
        struct store_sqlite *s = impl(base);
        sqlite3_stmt *st;
        int rc, r = -ENOENT;

        if (sqlite3_prepare_v2(s->db,
                               "SELECT offer_id, outcome, authorization_id, detail, "
                               "checked_at FROM aws_offer_lookups WHERE offer_id = ?",
                               -1, &st, NULL) != SQLITE_OK)
                return -EIO;
        sqlite3_bind_text(st, 1, offer_id, -1, SQLITE_TRANSIENT);
        rc = step_row(st);
        if (rc > 0) {
                struct store_aws_lookup l = { col_text(st, 0), col_text(st, 1), col_text(st, 2),
                                              col_text(st, 3), sqlite3_column_int64(st, 4) };
                r = fn(ctx, &l);
        } else if (rc < 0) {
                r = rc;
        }
        sqlite3_finalize(st);
        return r;
}

int sqlite_aws_source_counts(struct store *base, int64_t out[STORE_AWS_SOURCES])
{
        struct store_sqlite *s = impl(base);
        sqlite3_stmt *st;
        int r = 0;

        memset(out, 0, STORE_AWS_SOURCES * sizeof out[0]);
        if (sqlite3_prepare_v2(s->db,
                               "SELECT (aws_status IS NOT NULL) + 2 * (registered != 0), "
                               "COUNT(*) FROM authorizations GROUP BY 1",
                               -1, &st, NULL) != SQLITE_OK)
                return -EIO;
        while (scan_row(st, &r)) {
                int k = sqlite3_column_int(st, 0);
                if (k >= 0 && k < STORE_AWS_SOURCES)
                        out[k] = sqlite3_column_int64(st, 1);
        }
        sqlite3_finalize(st);
        return r;
}
