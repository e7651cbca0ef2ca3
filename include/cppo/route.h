/* cppo-notify — routing: which receivers hear about a notification.
 *
 * Rules (config.h, struct config_rule) are tried in order (rules.d file-name
 * order, then file order). A rule matches when its `match` pattern matches
 * the notification's context document. The first matching rule wins unless
 * it says `continue: true`, in which case later rules are tried too. Each
 * receiver gets at most one delivery per notification: the first matching
 * rule that names it decides its templates.
 *
 * Patterns and how they match: pattern.h.
 */
#ifndef CPPO_ROUTE_H
#define CPPO_ROUTE_H

#include "cppo/config.h"

#include <stddef.h>
#include <yajl/yajl_tree.h>

#define ROUTE_MAX_TARGETS 64

struct route_target {
        const struct config_rule *rule;
        const struct config_receiver *receiver;
};

struct route_targets {
        struct route_target items[ROUTE_MAX_TARGETS];
        size_t count;
        size_t rules_matched;
        const char *matched[ROUTE_MAX_TARGETS]; /* names of the matching rules */
};

/* Fills out with the deliveries doc should produce under cfg's rules.
 * out->count == 0 means unrouted. Never fails. Receivers a rule names but
 * cfg does not define are skipped; beyond ROUTE_MAX_TARGETS targets or
 * matched rules the rest are dropped, so rules_matched never exceeds it. */
void route_select(const struct config *cfg, yajl_val doc, struct route_targets *out);

#endif
