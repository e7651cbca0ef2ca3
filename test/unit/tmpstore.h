/* Unit-test helpers for tests that need a store: a fresh temporary
 * directory per test (cmocka setup/teardown) holding state.db at `path`.
 * Included by one test program each; everything is static.
 *
 * With CPPO_TEST_PG_URL in the environment (a postgresql:// URL of a
 * database whose role may CREATE DATABASE; CPPO_TEST_PG_PASSWORD_FILE, if
 * set, holds its password) each test gets a fresh empty PostgreSQL database
 * instead, dropped in teardown, and `path` is its URL: the same tests run
 * against both stores (test/unit/store-pg.sh starts the server). Tests of
 * SQLite-only behaviour skip there (SKIP_ON_PG). */
#ifndef CPPO_TEST_TMPSTORE_H
#define CPPO_TEST_TMPSTORE_H

#include "cppo/error.h"
#include "cppo/store.h"

#include <libpq-fe.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

static char dir[64], path[256];
/* PostgreSQL: the test's database (empty when on SQLite). */
static char pg_db[48];

/* Whether the tests run against PostgreSQL. */
static inline const char *pg_admin_url(void)
{
        const char *url = getenv("CPPO_TEST_PG_URL");

        return url && *url ? url : NULL;
}

/* A test of SQLite-only behaviour (the file, its pages, its pragmas)
 * ends here on PostgreSQL, saying why as a TAP comment. Not cmocka's
 * skip(): its TAP output ("not ok N # SKIP") counts as a failure in meson. */
#define SKIP_ON_PG(why)                                                                            \
        do {                                                                                       \
                if (pg_admin_url()) {                                                              \
                        print_message("# skipped on PostgreSQL: %s\n", why);                       \
                        return;                                                                    \
                }                                                                                  \
        } while (0)

/* The password file's first line as PGPASSWORD, so every store_open() of
 * the tests authenticates as a deployment with PGPASSWORD would. */
static inline int pg_password_from_file(void)
{
        const char *file = getenv("CPPO_TEST_PG_PASSWORD_FILE");
        char pw[256] = "";
        FILE *f;

        if (file == NULL || *file == '\0')
                return 0;
        f = fopen(file, "r");
        if (f == NULL)
                return -1;
        if (fgets(pw, sizeof pw, f) == NULL)
                pw[0] = '\0';
        fclose(f);
        pw[strcspn(pw, "\r\n")] = '\0';
        return setenv("PGPASSWORD", pw, 1);
}

/* Runs sql on the database at url (PostgreSQL). 0 or -1 (printed). */
static inline int pg_admin_sql(const char *url, const char *sql)
{
        PGconn *c = PQconnectdb(url);
        PGresult *res = PQstatus(c) == CONNECTION_OK ? PQexec(c, sql) : NULL;
        ExecStatusType st = PQresultStatus(res);
        int r = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : -1;

        if (r < 0)
                print_message("%s: %s\n", sql, PQerrorMessage(c));
        PQclear(res);
        PQfinish(c);
        return r;
}

/* Runs sql on the test's own store (either kind): 0 or -1. */
static inline int tmpstore_sql(const char *sql)
{
        sqlite3 *db = NULL;
        int rc;

        if (pg_admin_url())
                return pg_admin_sql(path, sql);
        rc = sqlite3_open(path, &db);
        if (rc == SQLITE_OK)
                rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
        sqlite3_close(db);
        return rc == SQLITE_OK ? 0 : -1;
}

/* A fresh database t_<pid>_<n> beside the admin one; path its URL. Its
 * default collation is a language's (ICU en-US, as a production database
 * often has), not bytes: a store query that orders text without COLLATE
 * "C" lists in another order than SQLite, and the tests see it. */
static inline int pg_setup(const char *admin)
{
        static unsigned n;
        const char *slash = strrchr(admin, '/');
        char sql[192];

        if (pg_password_from_file() < 0 || slash == NULL)
                return -1;
        snprintf(pg_db, sizeof pg_db, "t_%ld_%u_%ld", (long)getpid(), n++, (long)time(NULL));
        snprintf(sql, sizeof sql,
                 "CREATE DATABASE %s TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' "
                 "LOCALE 'C.UTF-8'",
                 pg_db);
        if (pg_admin_sql(admin, sql) < 0)
                return -1;
        snprintf(path, sizeof path, "%.*s/%s", (int)(slash - admin), admin, pg_db);
        return 0;
}

static int setup(void **state)
{
        (void)state;
        snprintf(dir, sizeof dir, "/tmp/cppo-test-XXXXXX");
        if (mkdtemp(dir) == NULL)
                return -1;
        if (pg_admin_url())
                return pg_setup(pg_admin_url());
        snprintf(path, sizeof path, "%s/state.db", dir);
        return 0;
}

static int teardown(void **state)
{
        char cmd[128];
        int r = 0;

        (void)state;
        if (pg_admin_url() && pg_db[0]) {
                /* FORCE: a test that failed midway may have left it open */
                snprintf(cmd, sizeof cmd, "DROP DATABASE IF EXISTS %s WITH (FORCE)", pg_db);
                r = pg_admin_sql(pg_admin_url(), cmd);
                pg_db[0] = '\0';
        }
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        return system(cmd) == 0 ? r : -1;
}

/* Whether name is one of the comma-separated names in list. */
static inline bool tmpstore_listed(const char *list, const char *name)
{
        size_t len = strlen(name);

        for (const char *p = list; (p = strstr(p, name)) != NULL; p += len)
                if ((p == list || p[-1] == ',') && (p[len] == '\0' || p[len] == ','))
                        return true;
        return false;
}

/* Runs the tests, or with CPPO_TEST_ONLY (comma-separated test names:
 * test/unit/meson.build's store-pg while the PostgreSQL store is
 * incomplete) only those. */
static inline int tmpstore_run(const char *name, const struct CMUnitTest *tests, size_t n)
{
        const char *only = getenv("CPPO_TEST_ONLY");
        struct CMUnitTest *pick = calloc(n ? n : 1, sizeof *pick);
        size_t k = 0;
        int r;

        if (pick == NULL)
                return 1;
        for (size_t i = 0; i < n; i++)
                if (only == NULL || tmpstore_listed(only, tests[i].name))
                        pick[k++] = tests[i];
        r = _cmocka_run_group_tests(name, pick, k, NULL, NULL);
        free(pick);
        return r;
}

/* The store at `path`, opened read-write (created and migrated). */
static inline struct store *open_rw(void)
{
        struct store *s = NULL;
        char err[CPPO_ERRLEN];

        assert_int_equal(store_open(&s, path, NULL, err, sizeof err), 0);
        return s;
}

/* Rows in one of the store's tables. */
static inline int64_t count(struct store *s, const char *table)
{
        int64_t n = -1;

        assert_int_equal(store_count(s, table, &n), 0);
        return n;
}

#endif
