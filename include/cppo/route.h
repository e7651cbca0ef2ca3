/* cppo-notify — routing: which receivers hear about a notification.
 *
 * Rules (config.h, struct config_rule) are tried in order (rules.d file-name
 * order, then file order). A rule matches when its `match` pattern matches
 * the notification's context document. The first matching rule wins unless
 * it says `continue: true`, in which case later rules are tried too. Each
 * receiver gets at most one delivery per notification: the first matching
 * rule that names it decides its templates.
 *
 * Patterns use Amazon EventBridge content-filter syntax, applied to the
 * context JSON document:
 *   - a pattern is an object; each key must match the same key of the
 *     document (nested objects nest, as in EventBridge);
 *   - a leaf is an array of alternatives (any of): literal strings, numbers,
 *     booleans, null, or one-key operator objects: {"prefix": s},
 *     {"suffix": s}, {"wildcard": "a*b"}, {"equals-ignore-case": s},
 *     {"exists": bool}, {"numeric": [">", 0, "<=", 5]},
 *     {"anything-but": v | [v...] | {"prefix": s} | {"suffix": s}};
 *     YAML convenience: a scalar leaf is treated as a one-element array;
 *   - when the document value is an array, the leaf matches if any element
 *     matches (EventBridge semantics).
 */
#ifndef CPPO_ROUTE_H
#define CPPO_ROUTE_H

#include "cppo/config.h"

#include <stdbool.h>
#include <stddef.h>
#include <yajl/yajl_tree.h>

#define ROUTE_MAX_TARGETS 64

/* Checks that pattern is a well-formed content filter. 0, or -EINVAL with
 * err naming the problem and *where set to the offending sub-pattern node
 * (so the caller can map it to a source location; may be NULL). */
int route_validate(yajl_val pattern, yajl_val *where, char *err, size_t errlen);

/* Whether doc matches pattern (a pattern that route_validate accepted). */
bool route_match(yajl_val pattern, yajl_val doc);

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
 * out->count == 0 means unrouted. Never fails. */
void route_select(const struct config *cfg, yajl_val doc, struct route_targets *out);

#endif
