/* teams-cards — renders every built-in Teams card for
 * test/integration/teams-cards.sh, whose node script validates them with the
 * npm adaptivecards library.
 *
 *   teams-cards
 *
 * Prints "<name>\t<message JSON>" per line, for every notification kind in
 * four contexts: realistic (a send-test one too), every value null,
 * hostile strings (markdown, links, bare addresses, mentions, list and
 * heading starts) and oversized (a 48,000 character company name and 300
 * metadata entries, mostly 3-byte characters: over Teams' limit unless
 * cut). Exit status 1 when a card does not render.
 */
#include "cppo/buf.h"
#include "cppo/config.h"
#include "cppo/model.h"
#include "cppo/render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* %s kind, %s test flag, %s buyer company, %s reason, %s metadata members
 * (JSON literals). */
static const char context[] =
    "{\"kind\":\"%s\",\"test\":%s,\"key\":\"%s/agmt-7f3k2\","
    "\"opportunity\":{\"id\":\"ra-9x8y7\",\"name\":\"Acme 2026 expansion\","
    "\"buyer_company_name\":%s,\"metadata\":{%s},"
    "\"notify\":[\"ae@example.com\",\"deals@example.com\"],\"registered\":true,"
    "\"expires_at\":\"2026-12-31T23:59:59Z\"},"
    "\"partner\":{\"account_id\":\"444455556666\",\"name\":\"Partner X\"},"
    "\"buyer\":{\"account_ids\":[\"111122223333\",\"999988887777\"]},"
    "\"product\":{\"id\":\"prod-widgetpro\",\"title\":\"Widget Pro\"},"
    "\"offer\":{\"id\":\"offer-abc123\",\"name\":\"Acme 3-year\",\"expiration\":"
    "\"2026-06-30T00:00:00Z\",\"link\":\"event\",\"late\":true,\"late_reason\":"
    "\"after_acceptance\"},"
    "\"agreement\":{\"id\":\"agmt-7f3k2\",\"intent\":\"NEW\",\"status\":\"ACTIVE\","
    "\"acceptance_time\":\"2026-03-02T10:15:00Z\",\"start_time\":\"2026-03-02T10:15:00Z\","
    "\"end_time\":\"2029-03-01T10:15:00Z\",\"previous_agreement_id\":\"agmt-old1\","
    "\"renewal\":true},\"previous_opportunity\":{\"id\":\"ra-old\",\"name\":\"Old deal\"},"
    "\"correction\":{\"seq\":2,\"previous_opportunity_id\":\"ra-old\",\"opportunity_id\":"
    "\"ra-9x8y7\",\"previous_link\":\"inferred\",\"actor\":\"ops@acme.test\",\"reason\":%s},"
    "\"reason\":%s,\"source_event_keys\":[\"acct|detail|req-1\"]}";

static const char nulls[] =
    "{\"kind\":\"%s\",\"key\":null,\"opportunity\":{\"id\":null,\"name\":null,"
    "\"buyer_company_name\":null,\"metadata\":{},\"notify\":[],\"registered\":false,"
    "\"expires_at\":null},\"partner\":{\"account_id\":null,\"name\":null},"
    "\"buyer\":{\"account_ids\":[]},\"product\":{\"id\":null,\"title\":null},"
    "\"offer\":{\"id\":null,\"name\":null,\"expiration\":null,\"link\":null,\"late\":false},"
    "\"agreement\":{\"id\":null,\"intent\":null,\"status\":null,\"acceptance_time\":null,"
    "\"start_time\":null,\"end_time\":null,\"previous_agreement_id\":null,\"renewal\":false},"
    "\"reason\":null,\"source_event_keys\":[]}";

/* Data that would format, link or mention if it reached the card as
 * markdown; teams-cards.js checks none of it does. */
#define HOSTILE                                                                                    \
        "\"**bold** _it_ [click](https://evil.example/x) <https://evil.example> "                  \
        "www.evil.example ae@evil.example <at>all</at> ![img](https://evil.example/i.png)\\n- "    \
        "item\\n1. first\\n# heading\\n> quote `code` ~~gone~~\""

static int print_card(const struct renderer *r, const char *name, const char *kind,
                      const char *json)
{
        struct config_receiver rcv = { .name = "teams", .type = CONFIG_RECEIVER_TEAMS };
        struct notification n = { .kind = (char *)kind,
                                  .key = (char *)"k",
                                  .context_json = (char *)json };
        struct rendered out = { 0 };
        char err[CPPO_ERRLEN] = "";
        int rc = render_notification(r, &rcv, NULL, &n, &out, err, sizeof err);

        if (rc == 0)
                printf("%s-%s\t%s\n", name, kind, out.body);
        else
                fprintf(stderr, "%s-%s: %s\n", name, kind, err);
        rendered_clear(&out);
        return rc;
}

static char *big_metadata(void)
{
        struct buf b = BUF_INIT(1 << 20);

        for (int i = 0; i < 300; i++) {
                if (buf_printf(&b, "%s\"key%d\":\"%d", i ? "," : "", i, i) < 0)
                        return NULL;
                for (int k = 0; k < 60; k++) /* 3 bytes a character */
                        if (buf_puts(&b, "\xe2\x82\xac") < 0)
                                return NULL;
                if (buf_puts(&b, "\"") < 0)
                        return NULL;
        }
        return buf_steal(&b);
}

static char *big_company(void)
{
        struct buf b = BUF_INIT(1 << 20);

        if (buf_puts(&b, "\"") < 0)
                return NULL;
        for (int i = 0; i < 3000; i++)
                if (buf_puts(&b, "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2"
                                 "\x82\xac\xe2\x82\xac\xe2\x82\xac [x](y) ") < 0)
                        return NULL;
        return buf_puts(&b, "\"") < 0 ? NULL : buf_steal(&b);
}

int main(void)
{
        struct renderer *r = NULL;
        char err[CPPO_ERRLEN] = "", *meta = big_metadata(), *company = big_company();
        struct buf b = BUF_INIT(1 << 22);
        int bad = 0;

        if (meta == NULL || company == NULL || renderer_new(&r, NULL, err, sizeof err) != 0) {
                fprintf(stderr, "teams-cards: %s\n", err[0] ? err : "out of memory");
                return 1;
        }
        for (size_t k = 0; render_kind(k) != NULL; k++) {
                const char *kind = render_kind(k);
                const struct {
                        const char *name, *test, *company, *reason, *metadata;
                } cases[] = {
                        { "realistic", "false", "\"Acme Corp\"", "\"expired\"",
                          "\"region\":\"EMEA\",\"crm_id\":\"006AbC\"" },
                        { "test", "true", "\"Acme Corp\"", "null", "" },
                        { "hostile", "false", HOSTILE, HOSTILE,
                          "\"[a](https://evil.example)\":" HOSTILE },
                        { "oversized", "false", company, HOSTILE, meta },
                };

                for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
                        buf_reset(&b);
                        if (buf_printf(&b, context, kind, cases[c].test, kind, cases[c].company,
                                       cases[c].metadata, cases[c].reason, cases[c].reason) < 0)
                                return 1;
                        bad += print_card(r, cases[c].name, kind, buf_cstr(&b)) != 0;
                }
                buf_reset(&b);
                if (buf_printf(&b, nulls, kind) < 0)
                        return 1;
                bad += print_card(r, "nulls", kind, buf_cstr(&b)) != 0;
        }
        buf_deinit(&b);
        free(meta);
        free(company);
        renderer_free(r);
        return bad ? 1 : 0;
}
