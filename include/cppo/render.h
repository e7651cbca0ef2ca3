/* cppo-notify — rendering a notification for one receiver.
 *
 * Template lookup, first found wins, for each (kind, channel part):
 *   1. the rule's `templates` override (config_rule.templates),
 *   2. the receiver's `templates` override (config_receiver.templates),
 *   3. <templates_dir>/<kind>.<part>.mustache when cfg->templates_dir is set,
 *   4. the built-in template compiled into the binary (generated at build
 *      time from config/templates/<kind>.<part>.mustache).
 * Parts: "subject", "text", "html" (email), "slack", "file" (also the
 * webhook receiver's body), "teams".
 * Kinds: partner_offer_extended, new_order, amended_offer, order_ended,
 * attention_needed.
 *
 * The template data is the notification's context document (model.h,
 * notification.context_json). Escaping per part: subject HEADER (no CR/LF),
 * text TEXT, html HTML, slack SLACK (mrkdwn + JSON string), file JSON,
 * teams SLACK's marks, resolved for the card's markdown (render_teams.c).
 * Each payload part is finished by its channel's format (render_<name>.c).
 * The Slack payload is then checked as JSON and held within Slack's limits:
 * at most 50 blocks and 3,000 characters per section text, truncated with a
 * visible marker ("… (truncated)"); `text` fallback always present.
 *
 * Besides the context document, templates see "view", what Mustache cannot
 * compute itself:
 *   view.kind_title                  "New order", ...
 *   view.test                        true when the context's "test" is true
 *                                    (cppo-notifyctl send-test)
 *   view.kind_is.<kind>              true for the notification's kind
 *   view.link_is.<link>              true for offer.link (event, registered, ...)
 *   view.late_is.<reason>            true for offer.late_reason (after_acceptance,
 *                                    after_hold)
 *   view.metadata                    [{"key", "value", "last"}] of opportunity.metadata
 *   view.has_metadata                true when view.metadata is not empty
 *   view.buyer_account_ids, view.notify, view.source_event_keys
 *                                    [{"value", "last"}] of those lists
 *   view.<list>_text                 the list joined with ", ", or null when empty
 * "last" is true on the final item, so a template can write separators:
 * {{#view.notify}}"{{value}}"{{^last}},{{/last}}{{/view.notify}}.
 *
 * Output: the subject is one line, trimmed, at most 250 characters; the
 * Slack and file payloads are parsed and re-emitted compact on one line.
 * Slack strings are resolved per text type (template.h, template_text()):
 * plain_text objects as written (header blocks on one line), everything
 * else as mrkdwn. The file line's top-level strings ("summary", ...) are
 * one line; "context" keeps the values exactly.
 *
 * A test message (view.test, whatever the templates say): the subject and
 * the Slack "text" start with "[TEST] ", the Slack blocks with a context
 * block saying so, and the file line has "test": true. Every other file
 * line has "test": false. The built-in text and html parts say so too.
 */
#ifndef CPPO_RENDER_H
#define CPPO_RENDER_H

#include "cppo/error.h"

#include "cppo/config.h"
#include "cppo/model.h"

#include <stddef.h>

#define RENDER_MAX_OUTPUT (256 * 1024)

/* Owned strings; NULL where the channel has no such part. */
struct rendered {
        char *subject; /* email: one line, no CR or LF */
        char *text;    /* email text/plain part */
        char *html;    /* email text/html part */
        char *body;    /* slack: the JSON payload; file: one JSON object, no newline */
};

void rendered_clear(struct rendered *r);

struct renderer;

/* Compiles every template cfg can use (built-ins, templates_dir, every
 * override; cfg NULL: built-ins only). Files of templates_dir that do not
 * exist are skipped. Errors as "path:line:col: message" in err. 0, -EINVAL, -ENOENT
 * (an override file missing), -EIO (a template file unreadable), -ENOMEM. */
CPPO_MUST_CHECK int renderer_new(struct renderer **out, const struct config *cfg, char *err,
                                 size_t errlen);
void renderer_free(struct renderer *r);

/* The i-th notification kind the renderer has built-in templates for
 * ("partner_offer_extended", ...), NULL past the last: the one list of
 * kinds for callers that offer a choice (send-test). */
const char *render_kind(size_t i);

/* How many templates r compiled (built-ins, templates_dir files, overrides). */
size_t renderer_template_count(const struct renderer *r);

/* Renders n for receiver rcv, as chosen by rule (may be NULL: receiver and
 * built-in templates only); rcv NULL renders the email parts. 0, -EINVAL
 * (context is not JSON, unknown kind, Slack or file payload not valid JSON:
 * err says why), -ENOENT (an override was not loaded), -E2BIG, -ENOMEM. */
CPPO_MUST_CHECK int render_notification(const struct renderer *r, const struct config_receiver *rcv,
                                        const struct config_rule *rule,
                                        const struct notification *n, struct rendered *out,
                                        char *err, size_t errlen);

#endif
