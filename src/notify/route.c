/* cppo-notify — routing: which rules match a notification's context
 * document (pattern.h does the matching), and which receivers they name. */
#include "cppo/route.h"

#include "cppo/pattern.h"

#include <string.h>

static bool has_receiver(const struct route_targets *out, const struct config_receiver *r)
{
        for (size_t i = 0; i < out->count; i++)
                if (out->items[i].receiver == r)
                        return true;
        return false;
}

static void add_rule(const struct config *cfg, const struct config_rule *rule,
                     struct route_targets *out)
{
        if (out->rules_matched < ROUTE_MAX_TARGETS)
                out->matched[out->rules_matched++] = rule->name;
        for (size_t i = 0; i < rule->receivers.count; i++) {
                const struct config_receiver *r = config_receiver(cfg, rule->receivers.items[i]);
                if (r == NULL || has_receiver(out, r) || out->count >= ROUTE_MAX_TARGETS)
                        continue;
                out->items[out->count].rule = rule;
                out->items[out->count].receiver = r;
                out->count++;
        }
}

void route_select(const struct config *cfg, yajl_val doc, struct route_targets *out)
{
        memset(out, 0, sizeof(*out));
        for (size_t i = 0; cfg != NULL && i < cfg->rule_count; i++) {
                const struct config_rule *rule = &cfg->rules[i];
                if (!pattern_match(rule->match, doc))
                        continue;
                add_rule(cfg, rule, out);
                if (!rule->cont)
                        break;
        }
}
