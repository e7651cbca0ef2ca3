/* Unit-test helpers for tests that need a store: a fresh temporary
 * directory per test (cmocka setup/teardown) holding state.db at `path`.
 * Included by one test program each; everything is static. */
#ifndef CPPO_TEST_TMPSTORE_H
#define CPPO_TEST_TMPSTORE_H

#include "cppo/error.h"
#include "cppo/store.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

static char dir[64], path[128];

static int setup(void **state)
{
        (void)state;
        snprintf(dir, sizeof dir, "/tmp/cppo-test-XXXXXX");
        if (mkdtemp(dir) == NULL)
                return -1;
        snprintf(path, sizeof path, "%s/state.db", dir);
        return 0;
}

static int teardown(void **state)
{
        char cmd[128];

        (void)state;
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        return system(cmd) == 0 ? 0 : -1;
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
