/* cppo-notify — the SQLite store's rejected inputs: the raw bytes and why,
 * kept; and their requeues through the inbox. */
#include "store_sqlite_internal.h"

#include "cppo/error.h"

#include <sqlite3.h>
#include <stdio.h>

int sqlite_reject(struct store *base, const struct raw_message *m, const char *reason,
                  const char *message)
{
        struct store_sqlite *s = impl(base);
        sqlite3_stmt *st = s->reject_insert;

        sqlite3_bind_text(st, 1, reason, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, message, -1, SQLITE_STATIC);
        bind_coord(st, 3, &m->coord);
        sqlite3_bind_int64(st, 6, m->received_at);
        sqlite3_bind_int(st, 7, m->truncated ? 1 : 0);
        sqlite3_bind_blob64(st, 8, m->data, m->len, SQLITE_STATIC);
        return step_done(st);
}

/* The rejected columns, requeue state included: a read-only CLI may open
 * a store its daemon has not migrated yet, whose rows were never requeued. */
static int prepare_rejected(struct store_sqlite *s, const char *tail, sqlite3_stmt **st)
{
        static const char *const heads[] = {
                "SELECT id, reason, message, origin, partition, offset, received_at, truncated, "
                "raw, requeue_inbox_id, requeued_at, requeue_outcome, requeue_error "
                "FROM rejected ",
                "SELECT id, reason, message, origin, partition, offset, received_at, truncated, "
                "raw, 0, 0, NULL, NULL FROM rejected ",
        };
        char sql[512];

        for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++) {
                if (snprintf(sql, sizeof sql, "%s%s", heads[i], tail) >= (int)sizeof sql)
                        return -E2BIG;
                if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) == SQLITE_OK)
                        return 0;
        }
        return -EIO;
}

/* Columns as prepare_rejected selects them; valid until the next step. */
static void row_rejected(sqlite3_stmt *st, struct store_rejected *row)
{
        *row = (struct store_rejected){
                .id = sqlite3_column_int64(st, 0),
                .reason = col_text(st, 1),
                .message = col_text(st, 2),
                .origin = col_text(st, 3),
                .partition = sqlite3_column_int(st, 4),
                .offset = sqlite3_column_int64(st, 5),
                .received_at = sqlite3_column_int64(st, 6),
                .truncated = sqlite3_column_int(st, 7) != 0,
                .raw = sqlite3_column_blob(st, 8),
                .raw_len = (size_t)sqlite3_column_bytes(st, 8),
                .requeue_inbox_id = sqlite3_column_int64(st, 9),
                .requeued_at = sqlite3_column_int64(st, 10),
                .requeue_outcome = col_text(st, 11),
                .requeue_error = col_text(st, 12),
        };
}

int sqlite_list_rejected(struct store *base, int64_t limit,
                         int (*fn)(void *ctx, const struct store_rejected *r), void *ctx)
{
        struct store_sqlite *s = impl(base);
        sqlite3_stmt *st;
        int r = 0;

        if (prepare_rejected(s, "ORDER BY id DESC LIMIT ?1", &st) < 0)
                return -EIO;
        sqlite3_bind_int64(st, 1, limit > 0 ? limit : -1);
        while (scan_row(st, &r)) {
                struct store_rejected row;
                row_rejected(st, &row);
                r = fn(ctx, &row);
        }
        sqlite3_finalize(st);
        return r;
}

int sqlite_get_rejected(struct store *base, int64_t id,
                        int (*fn)(void *ctx, const struct store_rejected *r), void *ctx)
{
        struct store_sqlite *s = impl(base);
        struct store_rejected row;
        sqlite3_stmt *st;
        int rc, r;

        if (prepare_rejected(s, "WHERE id = ?1", &st) < 0)
                return -EIO;
        sqlite3_bind_int64(st, 1, id);
        rc = step_row(st);
        if (rc > 0) {
                row_rejected(st, &row);
                r = fn(ctx, &row);
        } else {
                r = rc == 0 ? -ENOENT : -EIO;
        }
        sqlite3_finalize(st);
        return r;
}

int sqlite_rejected_requeue(struct store *base, int64_t id, int64_t inbox_id, int64_t now)
{
        struct store_sqlite *s = impl(base);
        const int64_t ints[] = { id, inbox_id, now };

        if (sqlite_run_stmt(s,
                            "UPDATE rejected SET requeue_inbox_id = ?2, requeued_at = ?3, "
                            "requeue_outcome = 'pending', requeue_error = NULL WHERE id = ?1",
                            NULL, 0, ints, 3) < 0)
                return -EIO;
        return sqlite3_changes(s->db) == 1 ? 0 : -ENOENT;
}

int sqlite_rejected_requeue_of(struct store *base, int64_t inbox_id, int64_t *id)
{
        struct store_sqlite *s = impl(base);
        sqlite3_stmt *st;
        int rc;

        *id = 0;
        if (sqlite3_prepare_v2(s->db,
                               "SELECT id FROM rejected WHERE requeue_inbox_id = ?1 AND "
                               "requeue_outcome = 'pending'",
                               -1, &st, NULL) != SQLITE_OK)
                return -EIO;
        sqlite3_bind_int64(st, 1, inbox_id);
        rc = step_row(st);
        if (rc > 0)
                *id = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        return rc >= 0 ? 0 : -EIO;
}

int sqlite_rejected_settle(struct store *base, int64_t id, const char *error)
{
        struct store_sqlite *s = impl(base);
        const char *text[] = { error ? "rejected" : "accepted", error };
        const int64_t ints[] = { id };

        if (sqlite_run_stmt(s,
                            "UPDATE rejected SET requeue_outcome = ?1, requeue_error = ?2 "
                            "WHERE id = ?3",
                            text, 2, ints, 1) < 0)
                return -EIO;
        return sqlite3_changes(s->db) == 1 ? 0 : -ENOENT;
}
