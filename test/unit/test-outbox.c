/* Unit tests: outbox_route() says whether more notifications wait (a list
 * filled its page), so callers page through the backlog without guessing
 * from counters: more pages while a page is full, none once the lists are
 * read whole, for pending notifications and those recorded from history
 * alike. Rendering and delivery contents are tested in test-render.c and
 * the integration suite. */
#undef NDEBUG
#include "cppo/outbox.h"

#include "cppo/config.h"
#include "cppo/model.h"
#include "cppo/render.h"
#include "cppo/store.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tmpstore.h"

/* A config with one file receiver and no rules: every notification is
 * unrouted, which takes it off the pending list like routing does. */
static struct config *no_rules_config(void)
{
        static const char text[] = "kafka:\n  brokers: b\n  topics: [t]\nstore:\n  path: /tmp/x\n"
                                   "receivers:\n  audit:\n    type: file\n    path: /tmp/x.jsonl\n";
        struct config_errors errs;
        struct config *c = NULL;

        config_errors_init(&errs);
        assert_int_equal(config_load_buffer(&c, "/nonexistent/t.yaml", text, strlen(text), &errs),
                         0);
        config_errors_deinit(&errs);
        return c;
}

/* Inserts n notifications keyed <prefix>/<i>; as history when backfill. */
static void add_notifications(struct store *s, const char *prefix, int n, bool backfill)
{
        struct changeset cs = { 0 };
        char key[64];

        for (int i = 0; i < n; i++) {
                struct notification x = {
                        .kind = (char *)"new_order",
                        .key = key,
                        .context_json = (char *)"{\"kind\":\"new_order\"}",
                };
                snprintf(key, sizeof key, "%s/%d", prefix, i);
                assert_int_equal(changeset_add_notification(&cs, &x), 0);
        }
        assert_int_equal(store_begin(s), 0);
        assert_int_equal(store_apply(s, &cs, NULL), 0);
        for (int i = 0; backfill && i < n; i++) {
                snprintf(key, sizeof key, "%s/%d", prefix, i);
                assert_int_equal(store_notification_backfill(s, key), 0);
        }
        assert_int_equal(store_commit(s), 0);
        changeset_clear(&cs);
}

struct fixture {
        struct store *s;
        struct config *cfg;
        struct renderer *r;
        struct outbox_stats st;
};

static void fixture_open(struct fixture *f)
{
        char err[CPPO_ERRLEN];

        *f = (struct fixture){ .s = open_rw(), .cfg = no_rules_config() };
        assert_int_equal(renderer_new(&f->r, f->cfg, err, sizeof err), 0);
}

static void fixture_close(struct fixture *f)
{
        renderer_free(f->r);
        config_free(f->cfg);
        store_close(f->s);
}

/* One outbox_route call with page `limit`: what it said about more. */
static bool route_page(struct fixture *f, int64_t limit)
{
        bool more = false;

        assert_true(outbox_route(f->s, f->cfg, f->r, 1000, limit, &f->st, &more) >= 0);
        return more;
}

static void nothing_waiting_says_no_more(void **state)
{
        struct fixture f;

        (void)state;
        fixture_open(&f);
        assert_false(route_page(&f, 2));
        assert_int_equal(f.st.unrouted, 0);
        fixture_close(&f);
}

static void pages_until_the_backlog_is_read(void **state)
{
        struct fixture f;

        (void)state;
        fixture_open(&f);
        add_notifications(f.s, "n", 5, false);
        assert_true(route_page(&f, 2));  /* 2 of 5 */
        assert_true(route_page(&f, 2));  /* 4 of 5 */
        assert_false(route_page(&f, 2)); /* the last one: a short page */
        assert_int_equal(f.st.unrouted, 5);
        assert_false(route_page(&f, 2));
        assert_int_equal(f.st.unrouted, 5);
        fixture_close(&f);
}

/* A full last page cannot know it was the last: one more call finds the
 * lists empty and says so. */
static void exact_page_needs_one_empty_call(void **state)
{
        struct fixture f;

        (void)state;
        fixture_open(&f);
        add_notifications(f.s, "n", 4, false);
        assert_true(route_page(&f, 2));
        assert_true(route_page(&f, 2));
        assert_false(route_page(&f, 2));
        assert_int_equal(f.st.unrouted, 4);
        fixture_close(&f);
}

/* Either list filling its page means more: history first, then pending. */
static void history_page_full_says_more(void **state)
{
        struct fixture f;

        (void)state;
        fixture_open(&f);
        add_notifications(f.s, "h", 3, true);
        add_notifications(f.s, "n", 1, false);
        assert_true(route_page(&f, 2)); /* 2 history + 1 pending */
        assert_int_equal(f.st.unrouted, 3);
        assert_false(route_page(&f, 2)); /* the last history one */
        assert_int_equal(f.st.unrouted, 4);
        fixture_close(&f);
}

/* A limit past the store's page is the store's page. */
static void large_limit_is_one_store_page(void **state)
{
        struct fixture f;

        (void)state;
        fixture_open(&f);
        add_notifications(f.s, "n", OUTBOX_PAGE_MAX + 1, false);
        assert_true(route_page(&f, 1000000));
        assert_int_equal(f.st.unrouted, OUTBOX_PAGE_MAX);
        assert_false(route_page(&f, 0));
        assert_int_equal(f.st.unrouted, OUTBOX_PAGE_MAX + 1);
        fixture_close(&f);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(nothing_waiting_says_no_more, setup, teardown),
                cmocka_unit_test_setup_teardown(pages_until_the_backlog_is_read, setup, teardown),
                cmocka_unit_test_setup_teardown(exact_page_needs_one_empty_call, setup, teardown),
                cmocka_unit_test_setup_teardown(history_page_full_says_more, setup, teardown),
                cmocka_unit_test_setup_teardown(large_limit_is_one_store_page, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
