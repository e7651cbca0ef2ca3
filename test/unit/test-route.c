/* Unit tests: routing — rule selection over realistic notification
 * context documents (the patterns themselves: test-pattern.c). */
#undef NDEBUG
#include "cppo/route.h"

#include "cppo/error.h"
#include "cppo/pattern.h"

#include "context-docs.h"

struct fixture {
        struct config cfg;
        struct config_receiver receivers[4];
        struct config_rule rules[8];
        const char *names[8][4];
        yajl_val docs[3];
};

static void add_receiver(struct fixture *f, const char *name, enum config_receiver_type t)
{
        struct config_receiver *r = &f->receivers[f->cfg.receiver_count++];
        r->name = name;
        r->type = t;
}

static void add_rule(struct fixture *f, const char *name, const char *match, bool cont,
                     const char *r1, const char *r2)
{
        size_t i = f->cfg.rule_count++;
        struct config_rule *r = &f->rules[i];
        char err[CPPO_ERRLEN];
        r->name = name;
        r->file = "10-rules.yaml";
        r->match = jparse(match);
        assert_int_equal(pattern_validate(r->match, NULL, err, sizeof(err)), 0);
        r->cont = cont;
        f->names[i][0] = r1;
        f->names[i][1] = r2;
        r->receivers.items = f->names[i];
        r->receivers.count = r2 != NULL ? 2 : 1;
}

/* revops and audit hear of orders, EMEA deals also go to Slack (both
 * continue), everything else stops at the ops catch-all. */
static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        assert_non_null(f);
        f->cfg.receivers = f->receivers;
        f->cfg.rules = f->rules;
        add_receiver(f, "revops", CONFIG_RECEIVER_EMAIL);
        add_receiver(f, "emea-deals", CONFIG_RECEIVER_SLACK);
        add_receiver(f, "ops", CONFIG_RECEIVER_EMAIL);
        add_receiver(f, "audit-log", CONFIG_RECEIVER_FILE);
        add_rule(f, "orders", "{'kind':['new_order']}", true, "revops", "audit-log");
        add_rule(f, "emea", "{'opportunity':{'metadata':{'region':['EMEA']}}}", true, "emea-deals",
                 "revops");
        add_rule(f, "catch-all", "{'kind':[{'exists':true}]}", false, "ops", "audit-log");
        add_rule(f, "never", "{'kind':[{'exists':true}]}", false, "revops", NULL);
        f->docs[0] = jparse(order_doc);
        f->docs[1] = jparse(extended_doc);
        f->docs[2] = jparse(attention_doc);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        for (size_t i = 0; i < f->cfg.rule_count; i++)
                yajl_tree_free(f->rules[i].match);
        for (size_t i = 0; i < 3; i++)
                yajl_tree_free(f->docs[i]);
        free(f);
        return 0;
}

static void assert_target(const struct route_targets *t, size_t i, const char *receiver,
                          const char *rule)
{
        assert_true(i < t->count);
        assert_string_equal(t->items[i].receiver->name, receiver);
        assert_string_equal(t->items[i].rule->name, rule);
}

static void continue_collects_and_dedups_receivers(void **state)
{
        struct fixture *f = *state;
        struct route_targets t;

        route_select(&f->cfg, f->docs[0], &t);
        assert_int_equal(t.rules_matched, 3);
        assert_string_equal(t.matched[0], "orders");
        assert_string_equal(t.matched[1], "emea");
        assert_string_equal(t.matched[2], "catch-all");
        /* revops and audit-log once each, from the first rule naming them */
        assert_int_equal(t.count, 4);
        assert_target(&t, 0, "revops", "orders");
        assert_target(&t, 1, "audit-log", "orders");
        assert_target(&t, 2, "emea-deals", "emea");
        assert_target(&t, 3, "ops", "catch-all");
        assert_ptr_equal(t.items[0].receiver, config_receiver(&f->cfg, "revops"));
        assert_ptr_equal(t.items[2].rule, &f->rules[1]);
}

static void first_match_wins_without_continue(void **state)
{
        struct fixture *f = *state;
        struct route_targets t;

        route_select(&f->cfg, f->docs[1], &t);
        assert_int_equal(t.rules_matched, 1);
        assert_string_equal(t.matched[0], "catch-all");
        assert_int_equal(t.count, 2);
        assert_target(&t, 0, "ops", "catch-all");
        assert_target(&t, 1, "audit-log", "catch-all");

        f->rules[0].cont = false;
        route_select(&f->cfg, f->docs[0], &t);
        f->rules[0].cont = true;
        assert_int_equal(t.rules_matched, 1);
        assert_int_equal(t.count, 2);
        assert_target(&t, 0, "revops", "orders");
        assert_target(&t, 1, "audit-log", "orders");
}

static void unrouted_when_nothing_matches(void **state)
{
        struct fixture *f = *state;
        struct route_targets t;

        f->cfg.rule_count = 2; /* without the catch-all */
        route_select(&f->cfg, f->docs[2], &t);
        assert_int_equal(t.count, 0);
        assert_int_equal(t.rules_matched, 0);
        route_select(&f->cfg, f->docs[1], &t);
        assert_int_equal(t.count, 0);
        f->cfg.rule_count = 4;

        route_select(NULL, f->docs[0], &t);
        assert_int_equal(t.count, 0);
        route_select(&f->cfg, NULL, &t);
        assert_int_equal(t.count, 0);
        assert_int_equal(t.rules_matched, 0);
}

static void duplicate_and_unknown_receivers_are_skipped(void **state)
{
        struct fixture *f = *state;
        struct route_targets t;

        f->names[3][0] = "revops";
        f->names[3][1] = "revops";
        f->rules[3].receivers.count = 2;
        f->names[2][0] = "nobody"; /* config_load refuses this; route_select survives it */
        route_select(&f->cfg, f->docs[2], &t);
        assert_int_equal(t.rules_matched, 1);
        assert_int_equal(t.count, 1);
        assert_target(&t, 0, "audit-log", "catch-all");

        f->rules[2].cont = true;
        route_select(&f->cfg, f->docs[2], &t);
        assert_int_equal(t.rules_matched, 2);
        assert_string_equal(t.matched[1], "never");
        assert_int_equal(t.count, 2);
        assert_target(&t, 1, "revops", "never");
}

/* More matching rules and receivers than the fixed arrays hold. */
static void caps_hold(void **state)
{
        enum { N_RULES = ROUTE_MAX_TARGETS + 10 };
        static struct config_receiver receivers[N_RULES];
        static struct config_rule rules[N_RULES];
        static char names[N_RULES][16];
        static const char *lists[N_RULES][1];
        struct config cfg = { .receivers = receivers,
                              .receiver_count = N_RULES,
                              .rules = rules,
                              .rule_count = N_RULES };
        yajl_val match = jparse("{'kind':'new_order'}"), doc = jparse(order_doc);
        struct route_targets t;

        for (size_t i = 0; i < N_RULES; i++) {
                snprintf(names[i], sizeof(names[i]), "r%zu", i);
                receivers[i].name = names[i];
                lists[i][0] = names[i];
                rules[i] = (struct config_rule){ .name = names[i],
                                                 .match = match,
                                                 .cont = true,
                                                 .receivers = { .items = lists[i], .count = 1 } };
        }
        route_select(&cfg, doc, &t);
        assert_int_equal(t.rules_matched, ROUTE_MAX_TARGETS);
        assert_int_equal(t.count, ROUTE_MAX_TARGETS);
        assert_string_equal(t.matched[ROUTE_MAX_TARGETS - 1], names[ROUTE_MAX_TARGETS - 1]);
        assert_target(&t, ROUTE_MAX_TARGETS - 1, names[ROUTE_MAX_TARGETS - 1],
                      names[ROUTE_MAX_TARGETS - 1]);
        yajl_tree_free(match);
        yajl_tree_free(doc);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(continue_collects_and_dedups_receivers, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(first_match_wins_without_continue, setup, teardown),
                cmocka_unit_test_setup_teardown(unrouted_when_nothing_matches, setup, teardown),
                cmocka_unit_test_setup_teardown(duplicate_and_unknown_receivers_are_skipped, setup,
                                                teardown),
                cmocka_unit_test(caps_hold),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
