/* libFuzzer target: the Marketplace Catalog response parsers over arbitrary
 * bytes. Nothing may crash, leak or read out of bounds; every refusal says
 * why; what a parser accepts respects its caps (NUL-terminated fields,
 * counts within their arrays). */
#include "cppo/aws.h"

#include "cppo/error.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void need(int cond)
{
        if (!cond)
                abort();
}

/* A refusal carries a reason; a success leaves err alone. */
static void check_rc(int rc, const char *err)
{
        need(rc == 0 || rc == 1 || rc == -EPROTO || rc == -E2BIG || rc == -ENOMEM);
        need(rc >= 0 || err[0] != '\0' || rc == -ENOMEM);
}

static void fuzz_ra(const char *json, size_t size)
{
        static struct aws_resale_auth ra;
        char err[CPPO_ERRLEN] = "";
        int rc = aws_parse_resale_authorization(json, size, &ra, err, sizeof err);
        check_rc(rc, err);
        if (rc == 0) {
                need(ra.id[0] != '\0' && strlen(ra.id) < sizeof ra.id);
                need(strlen(ra.reseller_legal_name) < sizeof ra.reseller_legal_name);
                need(ra.n_buyers <= AWS_BUYERS_MAX);
                for (size_t i = 0; i < ra.n_buyers; i++)
                        need(ra.buyers[i][0] != '\0');
                need(aws_ra_status_name(ra.status) != NULL);
        }
}

static void fuzz_list(const char *json, size_t size)
{
        static struct aws_list_page page;
        char err[CPPO_ERRLEN] = "";
        int rc = aws_parse_list_page(json, size, &page, err, sizeof err);
        check_rc(rc, err);
        if (rc == 0) {
                need(page.n <= AWS_PAGE_MAX);
                for (size_t i = 0; i < page.n; i++)
                        need(page.items[i].id[0] != '\0');
        }
}

static void fuzz_change_set(const char *json, size_t size)
{
        static struct aws_change_set cs;
        char err[CPPO_ERRLEN] = "";
        int rc = aws_parse_change_set(json, size, &cs, err, sizeof err);
        check_rc(rc, err);
        if (rc == 0) {
                need(cs.n <= AWS_CHANGES_MAX);
                for (size_t i = 0; i < cs.n; i++)
                        need(cs.changes[i].entity_id[0] != '\0' &&
                             strchr(cs.changes[i].entity_id, '@') == NULL);
        }
}

static void fuzz_offer_and_error(const char *json, size_t size)
{
        char ra[AWS_ID_MAX], err[CPPO_ERRLEN] = "";
        int rc = aws_parse_offer(json, size, ra, sizeof ra, err, sizeof err);
        check_rc(rc, err);
        need(rc != 1 || ra[0] != '\0');
        struct aws_error e;
        aws_parse_error(400, size > 8 ? json + size - 8 : NULL, json, size, &e);
        /* Error text ends up in one-line messages: no control characters. */
        for (const char *p = e.message; *p; p++)
                need((unsigned char)*p >= 0x20 && (unsigned char)*p != 0x7f);
        for (const char *p = e.type; *p; p++)
                need((unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f);
        need(aws_error_code(&e) < 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        /* The header value must be a C string: a NUL-terminated copy. */
        char *json = malloc(size + 1);
        if (json == NULL)
                return 0;
        memcpy(json, data, size);
        json[size] = '\0';
        fuzz_ra(json, size);
        fuzz_list(json, size);
        fuzz_change_set(json, size);
        fuzz_offer_and_error(json, size);
        free(json);
        return 0;
}
