/* Unit tests: decoding envelopes and events, table-driven. */
#undef NDEBUG
#include "cppo/decode.h"

#include "cppo/error.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static struct decoder *dec;
static struct decode_result res;

static int setup(void **state)
{
        struct decode_options o = { .max_message_bytes = 1 << 20 };

        decode_result_init(&res);
        return decode_new(&dec, &o);
}

static int teardown(void **state)
{
        decode_result_deinit(&res);
        decode_free(dec);
        return 0;
}

static void decode_str(const char *s)
{
        assert_int_equal(decode_message(dec, s, strlen(s), strlen(s), &res), 0);
}

static char *read_fixture(const char *name, size_t *len)
{
        char path[1024];
        FILE *f;
        char *data;
        long n;

        snprintf(path, sizeof path, "%s/aws-events/%s", FIXTURES_DIR, name);
        f = fopen(path, "rb");
        assert_non_null(f);
        assert_int_equal(fseek(f, 0, SEEK_END), 0);
        n = ftell(f);
        assert_true(n > 0);
        rewind(f);
        data = malloc((size_t)n);
        assert_non_null(data);
        assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
        fclose(f);
        *len = (size_t)n;
        return data;
}

/* ---- every fixture ---- */

static const struct {
        const char *file;
        enum mp_kind kind;
        enum mp_role role;
        const char *envelopes; /* comma-joined */
        const char *offer, *ra, *agreement, *intent, *status;
} fixtures[] = {
        { "offer-released-partner-offer-isv-copy.json", MP_OFFER_RELEASED, MP_ROLE_NONE, "",
          "offer-t6n2w9q4k8x3v", NULL, NULL, NULL, NULL },
        { "offer-released-partner-offer-partner-copy.json", MP_OFFER_RELEASED, MP_ROLE_NONE, "",
          "offer-t6n2w9q4k8x3v", NULL, NULL, NULL, NULL },
        { "agreement-created-manufacturer-new.json", MP_AGREEMENT_CREATED, MP_ROLE_MANUFACTURER, "",
          "offer-t6n2w9q4k8x3v", "resaleauthz-h4k8q2w6z9m3p", "agmt-5q8w2k7z3m9x4v6b1n0c2r8t4",
          "NEW", "ACTIVE" },
        { "agreement-created-proposer-new.json", MP_AGREEMENT_CREATED, MP_ROLE_PROPOSER, "",
          "offer-t6n2w9q4k8x3v", "resaleauthz-h4k8q2w6z9m3p", "agmt-5q8w2k7z3m9x4v6b1n0c2r8t4",
          "NEW", "ACTIVE" },
        { "agreement-created-manufacturer-replace.json", MP_AGREEMENT_CREATED, MP_ROLE_MANUFACTURER,
          "", "offer-r3m8v2k6q9w1z", "resaleauthz-h4k8q2w6z9m3p", "agmt-8z2v6q1m4k9w3x7b5n0c6r2t1",
          "REPLACE", "ACTIVE" },
        { "agreement-created-proposer-renew.json", MP_AGREEMENT_CREATED, MP_ROLE_PROPOSER, "",
          "offer-r3m8v2k6q9w1z", NULL, "agmt-2c7r1t8y4u9i3o6p5a0s2d4f9", "RENEW", "ACTIVE" },
        { "agreement-amended-manufacturer.json", MP_AGREEMENT_AMENDED, MP_ROLE_MANUFACTURER, "",
          "offer-t6n2w9q4k8x3v", "resaleauthz-h4k8q2w6z9m3p", "agmt-5q8w2k7z3m9x4v6b1n0c2r8t4",
          "AMEND", "ACTIVE" },
        { "agreement-amended-proposer-autorenew-off.json", MP_AGREEMENT_AMENDED, MP_ROLE_PROPOSER,
          "", "offer-t6n2w9q4k8x3v", "resaleauthz-h4k8q2w6z9m3p", "agmt-5q8w2k7z3m9x4v6b1n0c2r8t4",
          "AMEND", "ACTIVE" },
        { "agreement-ended-manufacturer-replaced.json", MP_AGREEMENT_ENDED, MP_ROLE_MANUFACTURER,
          "", "offer-t6n2w9q4k8x3v", "resaleauthz-h4k8q2w6z9m3p", "agmt-5q8w2k7z3m9x4v6b1n0c2r8t4",
          NULL, "REPLACED" },
        { "agreement-ended-proposer-expired.json", MP_AGREEMENT_ENDED, MP_ROLE_PROPOSER, "",
          "offer-r3m8v2k6q9w1z", "resaleauthz-h4k8q2w6z9m3p", "agmt-2c7r1t8y4u9i3o6p5a0s2d4f9",
          NULL, "EXPIRED" },
        { "agreement-ending-proposer.json", MP_AGREEMENT_ENDING, MP_ROLE_PROPOSER, "",
          "offer-t6n2w9q4k8x3v", NULL, "agmt-5q8w2k7z3m9x4v6b1n0c2r8t4", NULL, "ACTIVE" },
        { "cancellation-request-approved-proposer.json", MP_CANCELLATION_REQUEST, MP_ROLE_PROPOSER,
          "", "offer-t6n2w9q4k8x3v", NULL, "agmt-5q8w2k7z3m9x4v6b1n0c2r8t4", NULL, NULL },
        { "change-set-succeeded.json", MP_CHANGE_SET, MP_ROLE_NONE, "", NULL, NULL, NULL, NULL,
          NULL },
        { "license-updated-manufacturer.json", MP_LICENSE_UPDATED, MP_ROLE_MANUFACTURER, "",
          "offer-t6n2w9q4k8x3v", NULL, "agmt-5q8w2k7z3m9x4v6b1n0c2r8t4", NULL, NULL },
        { "license-deprovisioned-manufacturer.json", MP_LICENSE_DEPROVISIONED, MP_ROLE_MANUFACTURER,
          "", "offer-r3m8v2k6q9w1z", NULL, "agmt-2c7r1t8y4u9i3o6p5a0s2d4f9", NULL, NULL },
        { "envelope-sqs-message.json", MP_AGREEMENT_CREATED, MP_ROLE_MANUFACTURER, "sqs",
          "offer-t6n2w9q4k8x3v", "resaleauthz-h4k8q2w6z9m3p", "agmt-5q8w2k7z3m9x4v6b1n0c2r8t4",
          "NEW", "ACTIVE" },
        { "envelope-lambda-sqs-batch.json", MP_AGREEMENT_CREATED, MP_ROLE_MANUFACTURER,
          "lambda_sqs", "offer-t6n2w9q4k8x3v", "resaleauthz-h4k8q2w6z9m3p",
          "agmt-5q8w2k7z3m9x4v6b1n0c2r8t4", "NEW", "ACTIVE" },
        { "envelope-sns-notification.json", MP_AGREEMENT_CREATED, MP_ROLE_MANUFACTURER, "sns",
          "offer-t6n2w9q4k8x3v", "resaleauthz-h4k8q2w6z9m3p", "agmt-5q8w2k7z3m9x4v6b1n0c2r8t4",
          "NEW", "ACTIVE" },
        { "envelope-sns-in-sqs.json", MP_AGREEMENT_CREATED, MP_ROLE_MANUFACTURER, "sqs,sns",
          "offer-t6n2w9q4k8x3v", "resaleauthz-h4k8q2w6z9m3p", "agmt-5q8w2k7z3m9x4v6b1n0c2r8t4",
          "NEW", "ACTIVE" },
        { "envelope-legacy-sns-in-sqs.json", MP_LEGACY_SNS, MP_ROLE_NONE, "sqs,sns",
          "offer-t6n2w9q4k8x3v", NULL, NULL, NULL, NULL },
        { "legacy-sns-subscribe-success-message.json", MP_LEGACY_SNS, MP_ROLE_NONE, "",
          "offer-t6n2w9q4k8x3v", NULL, NULL, NULL, NULL },
        { "legacy-sns-entitlement-updated-message.json", MP_LEGACY_SNS, MP_ROLE_NONE, "", NULL,
          NULL, NULL, NULL, NULL },
};

static void assert_str_or_null(const char *got, const char *want)
{
        if (want == NULL)
                assert_null(got);
        else
                assert_string_equal(got, want);
}

static void every_fixture_decodes_to_its_fields(void **state)
{
        for (size_t i = 0; i < sizeof fixtures / sizeof fixtures[0]; i++) {
                size_t len;
                char *data = read_fixture(fixtures[i].file, &len), chain[64] = "";
                const struct mp_event *ev;

                fprintf(stderr, "# %s\n", fixtures[i].file);
                assert_int_equal(decode_message(dec, data, len, len, &res), 0);
                assert_int_equal(res.n, 1);
                assert_int_equal(res.items[0].reason, DECODE_OK);
                ev = &res.items[0].ev;
                assert_int_equal(ev->kind, fixtures[i].kind);
                assert_int_equal(ev->role, fixtures[i].role);
                for (size_t k = 0; k < ev->n_envelopes; k++)
                        snprintf(chain + strlen(chain), sizeof chain - strlen(chain), "%s%s",
                                 k ? "," : "", mp_envelope_name(ev->envelopes[k].kind));
                assert_string_equal(chain, fixtures[i].envelopes);
                assert_str_or_null(ev->offer_id, fixtures[i].offer);
                assert_str_or_null(ev->resale_authorization_id, fixtures[i].ra);
                assert_str_or_null(ev->agreement_id, fixtures[i].agreement);
                assert_str_or_null(ev->intent, fixtures[i].intent);
                assert_str_or_null(ev->status, fixtures[i].status);
                assert_true(ev->event_key[0] != '\0');
                free(data);
        }
}

static void offer_released_fields_and_key(void **state)
{
        size_t len;
        char *data = read_fixture("offer-released-partner-offer-isv-copy.json", &len);
        const struct mp_event *ev;

        assert_int_equal(decode_message(dec, data, len, len, &res), 0);
        ev = &res.items[0].ev;
        assert_string_equal(ev->event_key,
                            "111122223333|Offer Released|6f1d9b2a-0c4e-4a7f-b3d8-2e5c9a1f7b30");
        assert_string_equal(ev->offer_name,
                            "Contoso Bank 12m Enterprise via Channel Partner Co (Q-20931)");
        assert_string_equal(ev->offer_expiration, "2025-04-03T23:59:59Z");
        assert_string_equal(ev->product_title, "Acme Observability Platform");
        assert_string_equal(ev->manufacturer_account_id, "111122223333");
        assert_string_equal(ev->manufacturer_name, "Acme Software Inc");
        assert_string_equal(ev->seller_of_record_account_id, "444455556666");
        assert_string_equal(ev->seller_of_record_name, "Channel Partner Co");
        assert_int_equal(ev->n_targeted_buyer_account_ids, 1);
        assert_string_equal(ev->targeted_buyer_account_ids[0], "777788889999");
        assert_int_equal(ev->time_epoch, 1741079727);
        free(data);
}

static void sns_in_sqs_keeps_wrapper_ids(void **state)
{
        size_t len;
        char *data = read_fixture("envelope-sns-in-sqs.json", &len);
        const struct mp_event *ev;

        assert_int_equal(decode_message(dec, data, len, len, &res), 0);
        ev = &res.items[0].ev;
        assert_int_equal(ev->n_envelopes, 2);
        assert_string_equal(ev->envelopes[0].id, "0c4d8e2f-6a1b-4c3d-9e5f-7a8b9c0d1e2f");
        assert_string_equal(ev->envelopes[1].id, "9a7d3c5e-1f2b-5a4c-8e6d-0b9c8a7f6e5d");
        /* the same business event in every wrapping has the same key */
        assert_string_equal(ev->event_key, "111122223333|Purchase Agreement Created - "
                                           "Manufacturer|c41f7e0a-2b6d-4e39-9a51-7f3d8e2c1b64");
        free(data);
}

static void resale_authorization_present_null_empty_absent(void **state)
{
        static const char *const variants[] = {
                "\"resaleAuthorization\":{\"id\":\"ra-1\"},",
                "\"resaleAuthorization\":null,",
                "\"resaleAuthorization\":{},",
                "\"resaleAuthorization\":{\"id\":null},",
                "",
        };
        char json[512];

        for (size_t i = 0; i < 5; i++) {
                snprintf(json, sizeof json,
                         "{\"detail-type\":\"Purchase Agreement Created - Proposer\","
                         "\"source\":\"aws.agreement-marketplace\",\"account\":\"1\","
                         "\"detail\":{%s\"agreement\":{\"id\":\"agmt-1\"}}}",
                         variants[i]);
                decode_str(json);
                assert_int_equal(res.n, 1);
                assert_int_equal(res.items[0].reason, DECODE_OK);
                assert_str_or_null(res.items[0].ev.resale_authorization_id, i == 0 ? "ra-1" : NULL);
        }
}

static void typo_without_hyphen_keeps_role(void **state)
{
        decode_str(
            "{\"detail-type\":\"Purchase Agreement Amended Acceptor\","
            "\"source\":\"aws.agreement-marketplace\",\"detail\":{\"agreement\":{\"id\":\"a\"}}}");
        assert_int_equal(res.items[0].reason, DECODE_OK);
        assert_int_equal(res.items[0].ev.kind, MP_AGREEMENT_AMENDED);
        assert_int_equal(res.items[0].ev.role, MP_ROLE_ACCEPTOR);
        assert_string_equal(res.items[0].ev.detail_type_base, "Purchase Agreement Amended");
}

static void unknown_detail_type_is_unsupported_not_rejected(void **state)
{
        decode_str("{\"detail-type\":\"Products Security Report Created\",\"source\":"
                   "\"aws.marketplacecatalog\",\"id\":\"e1\",\"detail\":{\"x\":[1,{\"y\":2}]}}");
        assert_int_equal(res.items[0].reason, DECODE_OK);
        assert_int_equal(res.items[0].ev.kind, MP_UNSUPPORTED);
        assert_string_equal(res.items[0].ev.event_key, "id:e1");
}

static void registration_fields(void **state)
{
        decode_str(
            "{\"detail-type\":\"Resale Authorization Registered\",\"source\":\"cppo-notify\","
            "\"account\":\"111122223333\",\"id\":\"r1\",\"time\":\"2025-02-27T14:02:09Z\","
            "\"detail\":{\"resaleAuthorizationId\":\"resaleauthz-1\",\"name\":\"Contoso 12m\","
            "\"productId\":\"prod-1\",\"productTitle\":\"Acme\",\"resellerAccountId\":\"444\","
            "\"resellerName\":\"Partner\",\"buyerAccountIds\":[\"777\",\"778\"],"
            "\"buyerCompanyName\":\"Contoso Bank\",\"expiresAt\":\"2025-12-31T00:00:00Z\","
            "\"renewal\":true,\"notify\":[\"rep@example.com\"],"
            "\"metadata\":{\"crm\":\"OPP-1\",\"region\":\"EMEA\"},\"offerIds\":[\"offer-9\"]}}");
        const struct mp_event *ev = &res.items[0].ev;
        assert_int_equal(res.items[0].reason, DECODE_OK);
        assert_int_equal(ev->kind, MP_REGISTRATION_REGISTERED);
        assert_string_equal(ev->resale_authorization_id, "resaleauthz-1");
        assert_string_equal(ev->product_id, "prod-1");
        assert_string_equal(ev->reg.name, "Contoso 12m");
        assert_string_equal(ev->reg.product_title, "Acme");
        assert_string_equal(ev->reg.reseller_account_id, "444");
        assert_string_equal(ev->reg.reseller_name, "Partner");
        assert_string_equal(ev->reg.buyer_company_name, "Contoso Bank");
        assert_string_equal(ev->reg.expires_at, "2025-12-31T00:00:00Z");
        assert_true(ev->reg.renewal);
        assert_int_equal(ev->reg.n_buyer_account_ids, 2);
        assert_string_equal(ev->reg.buyer_account_ids[1], "778");
        assert_int_equal(ev->reg.n_notify, 1);
        assert_int_equal(ev->reg.n_offer_ids, 1);
        assert_int_equal(ev->reg.n_metadata, 2);
        assert_string_equal(ev->reg.metadata[1].key, "region");
        assert_string_equal(ev->reg.metadata_json, "{\"crm\":\"OPP-1\",\"region\":\"EMEA\"}");
        assert_string_equal(ev->event_key, "id:r1");

        decode_str("{\"detail-type\":\"Offer Associated\",\"source\":\"cppo-notify\",\"id\":\"x\","
                   "\"detail\":{\"offerId\":\"offer-9\",\"resaleAuthorizationId\":\"ra-2\"}}");
        assert_int_equal(res.items[0].ev.kind, MP_OFFER_ASSOCIATED);
        assert_string_equal(res.items[0].ev.offer_id, "offer-9");
        assert_string_equal(res.items[0].ev.resale_authorization_id, "ra-2");
}

static void lambda_batch_decodes_each_record_on_its_own(void **state)
{
        decode_str("{\"Records\":[{\"messageId\":\"m1\",\"body\":\"{\\\"detail-type\\\":\\\"Offer "
                   "Released\\\","
                   "\\\"source\\\":\\\"aws.marketplacecatalog\\\",\\\"id\\\":\\\"a\\\","
                   "\\\"detail\\\":{\\\"offer\\\":{\\\"id\\\":\\\"o1\\\"}}}\"},"
                   "{\"messageId\":\"m2\",\"body\":\"{not json\"},"
                   "{\"messageId\":\"m3\",\"body\":\"{\\\"detail-type\\\":\\\"Offer Released\\\","
                   "\\\"source\\\":\\\"aws.marketplacecatalog\\\",\\\"id\\\":\\\"b\\\","
                   "\\\"detail\\\":{\\\"offer\\\":{\\\"id\\\":\\\"o3\\\"}}}\"}]}");
        assert_int_equal(res.n, 3);
        assert_int_equal(res.items[0].reason, DECODE_OK);
        assert_string_equal(res.items[0].ev.offer_id, "o1");
        assert_string_equal(res.items[0].ev.envelopes[0].id, "m1");
        assert_int_equal(res.items[1].reason, DECODE_ENVELOPE_NOT_JSON);
        assert_int_equal(res.items[2].reason, DECODE_OK);
        assert_string_equal(res.items[2].ev.offer_id, "o3");
        assert_string_equal(res.items[2].ev.envelopes[0].id, "m3");
}

static void key_fallbacks(void **state)
{
        char key1[MP_EVENT_KEY_MAX];

        decode_str("{\"Type\":\"Notification\",\"MessageId\":\"sns-1\",\"Message\":"
                   "\"{\\\"action\\\":\\\"entitlement-updated\\\",\\\"customer-identifier\\\":"
                   "\\\"c\\\"}\"}");
        assert_string_equal(res.items[0].ev.event_key, "sns:sns-1");
        decode_str("{\"action\":\"entitlement-updated\",\"customer-identifier\":\"c\"}");
        assert_memory_equal(res.items[0].ev.event_key, "sha256:", 7);
        snprintf(key1, sizeof key1, "%s", res.items[0].ev.event_key);
        decode_str("{ \"action\" : \"entitlement-updated\",\n \"customer-identifier\": \"c\" }");
        assert_string_equal(res.items[0].ev.event_key, key1);
        decode_str("{\"action\":\"entitlement-updated\",\"customer-identifier\":\"c \"}");
        assert_string_not_equal(res.items[0].ev.event_key, key1);
}

/* ---- malformed inputs: each gives its reason ---- */

static const struct {
        const char *input;
        enum decode_reason reason;
} malformed[] = {
        { "", DECODE_INVALID_JSON },
        { "not json", DECODE_INVALID_JSON },
        { "{\"detail-type\":", DECODE_INVALID_JSON },
        { "{\"a\":1} trailing", DECODE_INVALID_JSON },
        { "{\"a\":1,}", DECODE_INVALID_JSON },
        { "{'single':'quotes'}", DECODE_INVALID_JSON },
        { "\xff\xfe{}", DECODE_INVALID_UTF8 },
        { "{\"a\":\"\xc3\x28\"}", DECODE_INVALID_UTF8 },
        { "{\"a\":\"\xed\xa0\x80\"}", DECODE_INVALID_UTF8 },
        { "{\"a\":\"\xc0\xaf\"}", DECODE_INVALID_UTF8 },
        { "{\"detail-type\":\"Offer "
          "Released\",\"source\":\"aws.marketplacecatalog\",\"detail\":{\"offer\":\"x\"}}",
          DECODE_WRONG_TYPE },
        { "{\"detail-type\":\"Offer "
          "Released\",\"source\":\"aws.marketplacecatalog\",\"detail\":{\"offer\":{\"id\":42}}}",
          DECODE_WRONG_TYPE },
        { "{\"detail-type\":\"Offer "
          "Released\",\"source\":\"aws.marketplacecatalog\",\"detail\":{\"offer\":{\"id\":\"o\"},"
          "\"targetedBuyerAccountIds\":\"777\"}}",
          DECODE_WRONG_TYPE },
        { "{\"detail-type\":\"Offer "
          "Released\",\"source\":\"aws.marketplacecatalog\",\"detail\":{\"offer\":{\"id\":\"o\"},"
          "\"targetedBuyerAccountIds\":[777]}}",
          DECODE_WRONG_TYPE },
        { "{\"detail-type\":\"Offer "
          "Released\",\"source\":\"aws.marketplacecatalog\",\"account\":111,\"detail\":{}}",
          DECODE_WRONG_TYPE },
        { "{\"detail-type\":\"Offer "
          "Released\",\"source\":\"aws.marketplacecatalog\",\"detail\":[]}",
          DECODE_WRONG_TYPE },
        { "{\"detail-type\":\"Resale Authorization "
          "Registered\",\"source\":\"cppo-notify\",\"detail\":{\"resaleAuthorizationId\":\"r\","
          "\"renewal\":\"yes\"}}",
          DECODE_WRONG_TYPE },
        { "{\"detail-type\":\"Resale Authorization "
          "Registered\",\"source\":\"cppo-notify\",\"detail\":{\"resaleAuthorizationId\":\"r\","
          "\"metadata\":{\"a\":{\"b\":1}}}}",
          DECODE_WRONG_TYPE },
        { "{\"Body\":42}", DECODE_WRONG_TYPE },
        { "{\"Records\":{\"body\":\"x\"}}", DECODE_WRONG_TYPE },
        { "{\"Body\":\"{not json\"}", DECODE_ENVELOPE_NOT_JSON },
        { "{\"Type\":\"Notification\",\"MessageId\":\"m\",\"Message\":\"plain text\"}",
          DECODE_ENVELOPE_NOT_JSON },
        { "{\"Body\":\"{\\\"Type\\\":\\\"Notification\\\",\\\"Message\\\":\\\"[1,\\\"}\"}",
          DECODE_ENVELOPE_NOT_JSON },
        { "{\"detail-type\":\"Offer "
          "Released\",\"source\":\"aws.marketplacecatalog\",\"detail\":{}}",
          DECODE_MISSING_ID },
        { "{\"detail-type\":\"Purchase Agreement Created - "
          "Manufacturer\",\"source\":\"aws.agreement-marketplace\",\"detail\":{\"agreement\":{"
          "\"intent\":\"NEW\"}}}",
          DECODE_MISSING_ID },
        { "{\"detail-type\":\"Purchase Agreement Ended - "
          "Proposer\",\"source\":\"aws.agreement-marketplace\",\"detail\":{\"agreement\":{\"id\":"
          "null}}}",
          DECODE_MISSING_ID },
        { "{\"detail-type\":\"Resale Authorization "
          "Registered\",\"source\":\"cppo-notify\",\"detail\":{\"name\":\"x\"}}",
          DECODE_MISSING_ID },
        { "{\"detail-type\":\"Offer "
          "Associated\",\"source\":\"cppo-notify\",\"detail\":{\"offerId\":\"o\"}}",
          DECODE_MISSING_ID },
        { "{\"hello\":\"world\"}", DECODE_UNRECOGNIZED },
        { "[1,2,3]", DECODE_UNRECOGNIZED },
        { "{\"Type\":\"SubscriptionConfirmation\",\"MessageId\":\"m\",\"Message\":\"confirm\"}",
          DECODE_UNRECOGNIZED },
        { "{\"Body\":\"{\\\"Body\\\":\\\"{\\\\\\\"Body\\\\\\\":\\\\\\\"{"
          "\\\\\\\\\\\\\\\"Body\\\\\\\\\\\\\\\":\\\\\\\\\\\\\\\"{}\\\\\\\\\\\\\\\"}\\\\\\\"}\\\"}"
          "\"}",
          DECODE_TOO_DEEP },
};

static void malformed_inputs_give_their_reason(void **state)
{
        for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
                fprintf(stderr, "# %zu: %s\n", i, malformed[i].input);
                decode_str(malformed[i].input);
                assert_int_equal(res.n, 1);
                assert_int_equal(res.items[0].reason, malformed[i].reason);
                assert_true(res.items[0].message[0] != '\0');
        }
        assert_true(sizeof malformed / sizeof malformed[0] >= 25);
}

static void deep_nesting_and_size_caps(void **state)
{
        char *deep = malloc(200001);
        struct decoder *small = NULL;
        struct decode_options o = { .max_message_bytes = 64 };

        assert_non_null(deep);
        memset(deep, '[', 100000);
        memset(deep + 100000, ']', 100000);
        deep[200000] = '\0';
        decode_str(deep);
        assert_int_equal(res.items[0].reason, DECODE_TOO_DEEP);
        free(deep);

        assert_int_equal(decode_new(&small, &o), 0);
        assert_int_equal(decode_message(small,
                                        "{\"detail-type\":\"Offer Released\",\"source\":"
                                        "\"aws.marketplacecatalog\",\"detail\":{}}",
                                        84, 84, &res),
                         0);
        assert_int_equal(res.items[0].reason, DECODE_TOO_LARGE);
        assert_string_equal(res.items[0].message, "message of 84 bytes is over the 64 byte limit");
        /* cut by the source: the rejection names the whole size it saw */
        assert_int_equal(decode_message(small, "{}", 2, 5000000, &res), 0);
        assert_int_equal(res.items[0].reason, DECODE_TOO_LARGE);
        assert_string_equal(res.items[0].message,
                            "message of 5000000 bytes is over the 64 byte limit");
        assert_int_equal(decode_message(small, "{}", 2, DECODE_SIZE_UNKNOWN, &res), 0);
        assert_string_equal(res.items[0].message,
                            "message of more than 2 bytes is over the 64 byte limit");
        decode_free(small);
        decode_free(NULL);
}

static void too_many_buyers_is_too_large(void **state)
{
        char json[4096] =
            "{\"detail-type\":\"Offer Released\",\"source\":\"aws.marketplacecatalog\","
            "\"detail\":{\"offer\":{\"id\":\"o\"},\"targetedBuyerAccountIds\":[";

        for (int i = 0; i <= MP_MAX_BUYERS; i++)
                snprintf(json + strlen(json), sizeof json - strlen(json), "%s\"%d\"", i ? "," : "",
                         i);
        snprintf(json + strlen(json), sizeof json - strlen(json), "]}}");
        decode_str(json);
        assert_int_equal(res.items[0].reason, DECODE_TOO_LARGE);
        assert_string_equal(res.items[0].message, "event has more buyers than the limit of 64");
}

/* A registration over a limit says which one and its value. */
static void registration_over_a_limit_names_it(void **state)
{
        static const struct {
                const char *key, *pre, *post, *want; /* item i: pre i post */
                int n;
        } rows[] = {
                { "notify", "\"a", "@example.com\"", "event has more contacts than the limit of 32",
                  MP_MAX_NOTIFY + 1 },
                { "buyerAccountIds", "\"", "\"", "event has more buyers than the limit of 64",
                  MP_MAX_BUYERS + 1 },
                { "offerIds", "\"o-", "\"", "event has more offer ids than the limit of 64",
                  MP_MAX_OFFERS + 1 },
                { "metadata", "\"k", "\":\"v\"", "event has more metadata than the limit of 64",
                  MP_MAX_METADATA + 1 },
        };

        for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
                char json[8192];
                bool map = strcmp(rows[r].key, "metadata") == 0;
                int len = snprintf(json, sizeof json,
                                   "{\"detail-type\":\"Resale Authorization "
                                   "Registered\",\"source\":\"cppo-notify\",\"detail\":{"
                                   "\"resaleAuthorizationId\":\"ra-1\",\"%s\":%c",
                                   rows[r].key, map ? '{' : '[');
                for (int i = 0; i < rows[r].n; i++) {
                        if (i)
                                len += snprintf(json + len, sizeof json - (size_t)len, ",");
                        len += snprintf(json + len, sizeof json - (size_t)len, "%s%d%s",
                                        rows[r].pre, i, rows[r].post);
                }
                snprintf(json + len, sizeof json - (size_t)len, "%c}}", map ? '}' : ']');
                decode_str(json);
                assert_int_equal(res.items[0].reason, DECODE_TOO_LARGE);
                assert_string_equal(res.items[0].message, rows[r].want);
        }
}

/* Found by libFuzzer: a legacy payload that also carries a detail-type
 * (but no source) reached the EventBridge classifier with source NULL. */
static void legacy_payload_with_stray_detail_type(void **state)
{
        decode_str("{\"action\":\"subscribe-success\",\"customer-identifier\":\"c\","
                   "\"detail-type\":\"Offer Released\"}");
        assert_int_equal(res.items[0].reason, DECODE_OK);
        assert_int_equal(res.items[0].ev.kind, MP_LEGACY_SNS);
        assert_null(res.items[0].ev.source);
}

static void reason_names_are_stable(void **state)
{
        assert_string_equal(decode_reason_name(DECODE_INVALID_JSON), "invalid_json");
        assert_string_equal(decode_reason_name(DECODE_ENVELOPE_NOT_JSON), "envelope_not_json");
        assert_string_equal(decode_reason_name(DECODE_UNRECOGNIZED), "unrecognized");
        assert_string_equal(decode_reason_name((enum decode_reason)99), "unknown");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(every_fixture_decodes_to_its_fields),
                cmocka_unit_test(offer_released_fields_and_key),
                cmocka_unit_test(sns_in_sqs_keeps_wrapper_ids),
                cmocka_unit_test(resale_authorization_present_null_empty_absent),
                cmocka_unit_test(typo_without_hyphen_keeps_role),
                cmocka_unit_test(unknown_detail_type_is_unsupported_not_rejected),
                cmocka_unit_test(registration_fields),
                cmocka_unit_test(lambda_batch_decodes_each_record_on_its_own),
                cmocka_unit_test(key_fallbacks),
                cmocka_unit_test(malformed_inputs_give_their_reason),
                cmocka_unit_test(deep_nesting_and_size_caps),
                cmocka_unit_test(too_many_buyers_is_too_large),
                cmocka_unit_test(registration_over_a_limit_names_it),
                cmocka_unit_test(legacy_payload_with_stray_detail_type),
                cmocka_unit_test(reason_names_are_stable),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
