/* Unit tests: rendering notifications — every kind and part, escaping,
 * Slack limits, override precedence, errors, and a golden new_order. */
#undef NDEBUG
#include "cppo/render.h"

#include "cppo/buf.h"
#include "cppo/config.h"
#include "cppo/error.h"
#include "cppo/model.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include <cmocka.h>

#define RENDER_FIXTURES FIXTURES_DIR "/render"

static const char *const kinds[] = {
        "partner_offer_extended", "new_order",      "amended_offer", "order_ended",
        "attention_needed",       "link_corrected",
};
#define N_KINDS (sizeof(kinds) / sizeof(kinds[0]))
#define N_PARTS 6 /* subject, text, html, slack, file, teams */

/* A realistic context: %s kind, %s key, %s buyer company (a JSON string
 * literal, quotes included), %s reason (JSON literal). */
static const char realistic[] =
    "{\"kind\":\"%s\",\"key\":\"%s/agmt-7f3k2\","
    "\"opportunity\":{\"id\":\"ra-9x8y7\",\"name\":\"Acme 2026 expansion\","
    "\"buyer_company_name\":%s,\"metadata\":{\"region\":\"EMEA\",\"crm_id\":\"006AbC\"},"
    "\"notify\":[\"ae@example.com\",\"deals@example.com\"],\"registered\":true,"
    "\"expires_at\":\"2026-12-31T23:59:59Z\"},"
    "\"partner\":{\"account_id\":\"444455556666\",\"name\":\"Partner X\"},"
    "\"buyer\":{\"account_ids\":[\"111122223333\",\"999988887777\"]},"
    "\"product\":{\"id\":\"prod-widgetpro\",\"title\":\"Widget Pro\"},"
    "\"offer\":{\"id\":\"offer-abc123\",\"name\":\"Acme 3-year\",\"expiration\":"
    "\"2026-06-30T00:00:00Z\",\"link\":\"event\",\"late\":true,\"late_reason\":\"after_"
    "acceptance\"},"
    "\"agreement\":{\"id\":\"agmt-7f3k2\",\"intent\":\"NEW\",\"status\":\"ACTIVE\","
    "\"acceptance_time\":\"2026-03-02T10:15:00Z\",\"start_time\":\"2026-03-02T10:15:00Z\","
    "\"end_time\":\"2029-03-01T10:15:00Z\",\"previous_agreement_id\":\"agmt-old1\","
    "\"renewal\":false},\"reason\":%s,\"source_event_keys\":[\"acct|detail|req-1\"]}";

/* Every string null, every list empty. */
static const char nulls[] =
    "{\"kind\":\"%s\",\"key\":null,\"opportunity\":{\"id\":null,\"name\":null,"
    "\"buyer_company_name\":null,\"metadata\":{},\"notify\":[],\"registered\":false,"
    "\"expires_at\":null},\"partner\":{\"account_id\":null,\"name\":null},"
    "\"buyer\":{\"account_ids\":[]},\"product\":{\"id\":null,\"title\":null},"
    "\"offer\":{\"id\":null,\"name\":null,\"expiration\":null,\"link\":null,\"late\":false},"
    "\"agreement\":{\"id\":null,\"intent\":null,\"status\":null,\"acceptance_time\":null,"
    "\"start_time\":null,\"end_time\":null,\"previous_agreement_id\":null,\"renewal\":false},"
    "\"reason\":null,\"source_event_keys\":[]}";

struct rendered3 {
        struct rendered email, slack, file;
};

static char *context(const char *kind, const char *company, const char *reason)
{
        struct buf b = BUF_INIT(1 << 20);

        assert_int_equal(buf_printf(&b, realistic, kind, kind, company, reason), 0);
        return buf_steal(&b);
}

static int render_as(const struct renderer *r, enum config_receiver_type type,
                     const struct config_rule *rule, const char *kind, const char *json,
                     struct rendered *out, char *err)
{
        struct config_receiver rcv = { .name = "r", .type = type };
        struct notification n = { .kind = (char *)kind,
                                  .key = (char *)"k",
                                  .context_json = (char *)json };

        return render_notification(r, &rcv, rule, &n, out, err, CPPO_ERRLEN);
}

/* Renders json for an email, a Slack and a file receiver; all must work. */
static void render3(const struct renderer *r, const char *kind, const char *json,
                    struct rendered3 *out)
{
        char err[CPPO_ERRLEN] = "";
        int rc = render_as(r, CONFIG_RECEIVER_EMAIL, NULL, kind, json, &out->email, err);

        if (rc == 0)
                rc = render_as(r, CONFIG_RECEIVER_SLACK, NULL, kind, json, &out->slack, err);
        if (rc == 0)
                rc = render_as(r, CONFIG_RECEIVER_FILE, NULL, kind, json, &out->file, err);
        if (rc != 0)
                fprintf(stderr, "# %s: %s\n", kind, err);
        assert_int_equal(rc, 0);
        assert_non_null(out->email.subject);
        assert_non_null(out->email.text);
        assert_non_null(out->email.html);
        assert_null(out->email.body);
        assert_non_null(out->slack.body);
        assert_null(out->slack.subject);
        assert_non_null(out->file.body);
}

/* The webhook receiver POSTs the file receiver's document, byte for byte,
 * for every kind; it starts with its version. */
static void webhook_body_is_the_file_document(void **state)
{
        struct renderer *r = NULL;
        char err[CPPO_ERRLEN] = "";

        assert_int_equal(renderer_new(&r, NULL, err, sizeof(err)), 0);
        for (size_t k = 0; render_kind(k) != NULL; k++) {
                char *json = context(render_kind(k), "\"Acme Corp\"", "\"expired\"");
                struct rendered file = { 0 }, hook = { 0 };

                assert_int_equal(
                    render_as(r, CONFIG_RECEIVER_FILE, NULL, render_kind(k), json, &file, err), 0);
                assert_int_equal(
                    render_as(r, CONFIG_RECEIVER_WEBHOOK, NULL, render_kind(k), json, &hook, err),
                    0);
                assert_string_equal(hook.body, file.body);
                assert_memory_equal(hook.body, "{\"version\":1,", 12);
                assert_null(hook.subject);
                rendered_clear(&file);
                rendered_clear(&hook);
                free(json);
        }
        renderer_free(r);
}

static void rendered3_clear(struct rendered3 *o)
{
        rendered_clear(&o->email);
        rendered_clear(&o->slack);
        rendered_clear(&o->file);
}

static yajl_val parse(const char *json)
{
        char err[256];
        yajl_val v = yajl_tree_parse(json, err, sizeof(err));

        if (v == NULL)
                fprintf(stderr, "# not JSON (%s): %s\n", err, json);
        assert_non_null(v);
        return v;
}

static yajl_val at(yajl_val v, const char *a, const char *b, const char *c)
{
        const char *path[] = { a, b, c, NULL };

        return yajl_tree_get(v, path, yajl_t_any);
}

static void assert_contains(const char *hay, const char *needle)
{
        if (strstr(hay, needle) == NULL)
                fprintf(stderr, "# '%s' not found in:\n%s\n", needle, hay);
        assert_non_null(strstr(hay, needle));
}

static size_t utf8_len(const char *s)
{
        size_t n = 0;

        for (; *s; s++)
                n += ((unsigned char)*s & 0xC0) != 0x80;
        return n;
}

/* A Slack payload: top-level text, at most 50 blocks, each section text
 * within 3,000 characters, each field within 2,000, headers within 150. */
static yajl_val assert_slack_valid(const char *json)
{
        yajl_val doc = parse(json);
        yajl_val text = at(doc, "text", NULL, NULL), blocks = at(doc, "blocks", NULL, NULL);

        assert_true(YAJL_IS_STRING(text) && text->u.string[0] != '\0');
        assert_true(YAJL_IS_ARRAY(blocks));
        assert_true(blocks->u.array.len <= 50);
        for (size_t i = 0; i < blocks->u.array.len; i++) {
                yajl_val b = blocks->u.array.values[i];
                yajl_val t = at(b, "text", "text", NULL), f = at(b, "fields", NULL, NULL);
                const char *type = YAJL_GET_STRING(at(b, "type", NULL, NULL));

                assert_non_null(type);
                if (YAJL_IS_STRING(t))
                        assert_true(utf8_len(t->u.string) <= (strcmp(type, "header") ? 3000 : 150));
                for (size_t k = 0; YAJL_IS_ARRAY(f) && k < f->u.array.len; k++) {
                        yajl_val ft = at(f->u.array.values[k], "text", NULL, NULL);

                        assert_true(YAJL_IS_STRING(ft));
                        assert_true(utf8_len(ft->u.string) <= 2000);
                        assert_true(ft->u.string[0] != '\0');
                }
        }
        return doc;
}

static struct renderer *builtins(void)
{
        char err[CPPO_ERRLEN];
        struct renderer *r = NULL;

        assert_int_equal(renderer_new(&r, NULL, err, sizeof(err)), 0);
        assert_int_equal(renderer_template_count(r), N_PARTS * N_KINDS);
        return r;
}

/* ---- every kind and part ------------------------------------------------ */

static void check_realistic(const struct renderer *r, const char *kind)
{
        char *json = context(kind, "\"Acme Corp\"", "\"hold timed out\"");
        struct rendered3 o = { 0 };
        yajl_val doc;

        render3(r, kind, json, &o);
        assert_null(strchr(o.email.subject, '\n'));
        assert_contains(o.email.subject, "Acme Corp");
        assert_contains(o.email.subject, "Widget Pro");
        assert_contains(o.email.subject, "Partner X");
        for (const char *const *s = (const char *const[]){ o.email.text, o.email.html, NULL }; *s;
             s++) {
                assert_contains(*s, "ra-9x8y7");
                assert_contains(*s, "Acme 2026 expansion");
                assert_contains(*s, "111122223333, 999988887777");
                assert_contains(*s, "444455556666");
                assert_contains(*s, "offer-abc123");
                assert_contains(*s, "2026-06-30T00:00:00Z");
                assert_contains(*s, "an AWS agreement event named both");
                assert_contains(*s, "the buyer accepted before the offer id reached us");
                assert_contains(*s, "agmt-7f3k2, intent NEW, status ACTIVE");
                assert_contains(*s, "agmt-old1");
                assert_contains(*s, "ae@example.com, deals@example.com");
                assert_contains(*s, "region: EMEA");
                assert_contains(*s, "hold timed out");
        }
        assert_contains(o.email.html, "<table");
        doc = assert_slack_valid(o.slack.body);
        assert_contains(o.slack.body, "Acme Corp");
        assert_contains(o.slack.body, "offer-abc123");
        assert_contains(o.slack.body, "region: EMEA");
        yajl_tree_free(doc);
        assert_null(strchr(o.file.body, '\n'));
        doc = parse(o.file.body);
        assert_string_equal(YAJL_GET_STRING(at(doc, "kind", NULL, NULL)), kind);
        assert_string_equal(YAJL_GET_STRING(at(doc, "context", "offer", "id")), "offer-abc123");
        assert_true(YAJL_IS_TRUE(at(doc, "context", "offer", "late")));
        assert_string_equal(
            YAJL_GET_STRING(at(doc, "context", "opportunity", "buyer_company_name")), "Acme Corp");
        assert_int_equal(at(doc, "context", "buyer", "account_ids")->u.array.len, 2);
        yajl_tree_free(doc);
        if (strcmp(kind, "attention_needed") == 0) {
                assert_contains(o.email.text,
                                "cppo-notifyctl associate --offer offer-abc123 --authorization "
                                "ra-9x8y7");
                assert_contains(o.slack.body, "cppo-notifyctl associate --offer offer-abc123");
        }
        rendered3_clear(&o);
        free(json);
}

/* link_corrected names both authorizations and who corrected it, in every
 * channel. */
static void link_corrected_names_both_sides(void **state)
{
        struct renderer *r = builtins();
        char *base = context("link_corrected", "\"Acme Corp\"", "null");
        struct buf b = BUF_INIT(1 << 16);
        struct rendered3 o = { 0 };
        yajl_val doc;

        assert_int_equal(buf_printf(&b,
                                    "{\"previous_opportunity\":{\"id\":\"ra-old\","
                                    "\"name\":\"Old deal\"},\"correction\":{\"seq\":2,"
                                    "\"actor\":\"alice\"},%s",
                                    base + 1),
                         0);
        render3(r, "link_corrected", buf_cstr(&b), &o);
        assert_contains(o.email.subject, "Link corrected:");
        assert_contains(o.email.subject, "not opportunity ra-old, now opportunity ra-9x8y7");
        assert_contains(o.email.text, "Was linked to:       ra-old (Old deal)");
        assert_contains(o.email.text, "Now linked to:       ra-9x8y7 (Acme 2026 expansion)");
        assert_contains(o.email.text, "Corrected by:        alice");
        assert_contains(o.email.html, "<strong>Was linked to:</strong> ra-old (Old deal)");
        doc = assert_slack_valid(o.slack.body);
        assert_contains(o.slack.body, "*Was linked to:* ra-old (Old deal)");
        yajl_tree_free(doc);
        doc = parse(o.file.body);
        assert_string_equal(YAJL_GET_STRING(at(doc, "context", "previous_opportunity", "id")),
                            "ra-old");
        assert_string_equal(YAJL_GET_STRING(at(doc, "context", "correction", "actor")), "alice");
        yajl_tree_free(doc);
        rendered3_clear(&o);
        buf_deinit(&b);
        free(base);
        renderer_free(r);
}

static void every_kind_renders_realistic_context(void **state)
{
        struct renderer *r = builtins();

        for (size_t k = 0; k < N_KINDS; k++)
                check_realistic(r, kinds[k]);
        renderer_free(r);
}

static void check_nulls(const struct renderer *r, const char *kind, const char *json)
{
        struct rendered3 o = { 0 };
        yajl_val doc;

        render3(r, kind, json, &o);
        assert_contains(o.email.subject, "unknown");
        assert_contains(o.email.text, "no: cppo-notify has no registration");
        assert_contains(o.email.html, "no: cppo-notify has no registration");
        yajl_tree_free(assert_slack_valid(o.slack.body));
        doc = parse(o.file.body);
        assert_true(YAJL_IS_NULL(at(doc, "context", "opportunity", "id")));
        assert_true(YAJL_IS_FALSE(at(doc, "context", "opportunity", "registered")));
        assert_true(YAJL_IS_ARRAY(at(doc, "context", "buyer", "account_ids")));
        yajl_tree_free(doc);
        if (strcmp(kind, "attention_needed") == 0)
                assert_contains(o.email.text, "cppo-notifyctl associate --offer OFFER_ID "
                                              "--authorization RESALE_AUTHORIZATION_ID");
        rendered3_clear(&o);
}

static void every_kind_renders_nulls(void **state)
{
        struct renderer *r = builtins();
        struct buf b = BUF_INIT(8192);

        for (size_t k = 0; k < N_KINDS; k++) {
                buf_reset(&b);
                assert_int_equal(buf_printf(&b, nulls, kinds[k]), 0);
                check_nulls(r, kinds[k], buf_cstr(&b));
                check_nulls(r, kinds[k], "{}");
        }
        buf_deinit(&b);
        renderer_free(r);
}

/* ---- escaping ----------------------------------------------------------- */

static void html_escapes_script(void **state)
{
        struct renderer *r = builtins();
        char *json = context("new_order", "\"<script>alert(1)</script> & Co\"", "null");
        struct rendered3 o = { 0 };

        render3(r, "new_order", json, &o);
        assert_null(strstr(o.email.html, "<script>"));
        assert_contains(o.email.html, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co");
        /* plain text is not HTML: the value stays as it is */
        assert_contains(o.email.text, "<script>alert(1)</script> & Co");
        /* Slack shows plain_text as written; mrkdwn gets entities */
        assert_contains(o.slack.body, "plain_text\",\"text\":\"New order: <script>");
        assert_contains(o.slack.body, "*Buyer company*\\n&lt;script&gt;alert(1)&lt;/script&gt; "
                                      "&amp; Co");
        rendered3_clear(&o);
        free(json);
        renderer_free(r);
}

#define Z "\xe2\x80\x8b" /* U+200B ZERO WIDTH SPACE */

/* What a CRM could put in a company name, and how each channel shows it:
 * `line` in one-line fields (mail subject, Slack header, file summary),
 * `mrkdwn` in a Slack mrkdwn field (value first on its line). */
static const struct hostile {
        const char *value, *line, *mrkdwn;
} hostile[] = {
        { "*bold*", "*bold*", Z "*" Z "bold" Z "*" Z },
        { "_x_", "_x_", Z "_" Z "x" Z "_" Z },
        { "~s~", "~s~", Z "~" Z "s" Z "~" Z },
        { "`code`", "`code`", Z "`" Z "code" Z "`" Z },
        { "```x```", "```x```", Z "`" Z Z "`" Z Z "`" Z "x" Z "`" Z Z "`" Z Z "`" Z },
        { "> quote", "> quote", Z "&gt; quote" },
        { "a\n> b", "a > b", "a\n" Z "&gt; b" },
        { "x > y", "x > y", "x &gt; y" },
        { "<!channel>", "<!channel>", "&lt;!channel&gt;" },
        { "<!here|here>", "<!here|here>", "&lt;!here|here&gt;" },
        { "<@U123>", "<@U123>", "&lt;@U123&gt;" },
        { "<http://evil.example|click>", "<http://evil.example|click>",
          "&lt;http://evil.example|click&gt;" },
        { "M\xc3\xbcller & S\xc3\xb6hne", "M\xc3\xbcller & S\xc3\xb6hne",
          "M\xc3\xbcller &amp; S\xc3\xb6hne" },
        { "&amp;", "&amp;", "&amp;amp;" },
        { "new_order a*b", "new_order a*b", "new_order a*b" },
        { "Acme\xe2\x80\xae"
          "evil",
          "Acmeevil", "Acmeevil" },
        { "\xe2\x80\xaa\xe2\x80\xab\xe2\x80\xac\xe2\x80\xad|\xe2\x81\xa6\xe2\x81\xa7"
          "\xe2\x81\xa8\xe2\x81\xa9",
          "|", "|" },
        { "Acme\r\nBcc: x@evil", "Acme  Bcc: x@evil", "Acme\r\nBcc: x@evil" },
};

/* s as a JSON string literal, quotes included. */
static char *json_string(const char *s)
{
        yajl_gen g = yajl_gen_alloc(NULL);
        const unsigned char *p;
        size_t len;
        char *out;

        assert_non_null(g);
        assert_int_equal(yajl_gen_string(g, (const unsigned char *)s, strlen(s)),
                         yajl_gen_status_ok);
        assert_int_equal(yajl_gen_get_buf(g, &p, &len), yajl_gen_status_ok);
        out = strndup((const char *)p, len);
        yajl_gen_free(g);
        assert_non_null(out);
        return out;
}

/* The text of the payload's first block of type `type`, or of the field
 * that starts with `prefix`. */
static const char *slack_text(yajl_val doc, const char *type, const char *prefix)
{
        yajl_val blocks = at(doc, "blocks", NULL, NULL);

        for (size_t i = 0; i < blocks->u.array.len; i++) {
                yajl_val b = blocks->u.array.values[i], f = at(b, "fields", NULL, NULL);
                const char *t = YAJL_GET_STRING(at(b, "type", NULL, NULL));

                if (type != NULL && strcmp(t, type) == 0)
                        return YAJL_GET_STRING(at(b, "text", "text", NULL));
                for (size_t k = 0; prefix && YAJL_IS_ARRAY(f) && k < f->u.array.len; k++) {
                        const char *ft = YAJL_GET_STRING(
                            at(f->u.array.values[k], "text", NULL, NULL));

                        if (strncmp(ft, prefix, strlen(prefix)) == 0)
                                return ft + strlen(prefix);
                }
        }
        fail_msg("no %s block / %s field", type ? type : "-", prefix ? prefix : "-");
        return NULL;
}

static void check_hostile(const struct renderer *r, const struct hostile *h)
{
        static const char *const pings[] = { "<!", "<@", "<#", "<http", "<mailto" };
        char *name = json_string(h->value), *json = context("new_order", name, "null");
        struct rendered3 o = { 0 };
        struct buf want = BUF_INIT(4096);
        yajl_val doc;

        fprintf(stderr, "# hostile %s\n", name);
        render3(r, "new_order", json, &o);
        assert_int_equal(buf_printf(&want, "New order: %s bought", h->line), 0);
        assert_contains(o.email.subject, buf_cstr(&want));
        doc = assert_slack_valid(o.slack.body);
        /* the header is plain_text: exactly the value, no entity */
        assert_memory_equal(slack_text(doc, "header", NULL), buf_cstr(&want), want.len);
        assert_string_equal(slack_text(doc, NULL, "*Buyer company*\n"), h->mrkdwn);
        /* no block, field, context or fallback can ping or link from data */
        for (size_t i = 0; i < sizeof(pings) / sizeof(pings[0]); i++) {
                const char *hit = strstr(o.slack.body, pings[i]);

                if (hit != NULL)
                        assert_non_null(strstr(slack_text(doc, "header", NULL), pings[i]));
        }
        yajl_tree_free(doc);
        doc = parse(o.file.body);
        assert_contains(YAJL_GET_STRING(at(doc, "summary", NULL, NULL)), buf_cstr(&want));
        /* the context is the data, exactly */
        assert_string_equal(
            YAJL_GET_STRING(at(doc, "context", "opportunity", "buyer_company_name")), h->value);
        yajl_tree_free(doc);
        buf_deinit(&want);
        rendered3_clear(&o);
        free(json);
        free(name);
}

/* Item 7 of issue 11: what the CRM said, neither formatting nor pinging. */
static void hostile_crm_strings(void **state)
{
        struct renderer *r = builtins();

        for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++)
                check_hostile(r, &hostile[i]);
        renderer_free(r);
}

/* Issue 11 item 6: a send-test message ("test": true in the context) says
 * so in every channel, even through templates that do not mention it; a
 * real one carries "test": false in its file line and no marker. */
static void test_marker_in_every_channel(void **state)
{
        struct renderer *r = builtins();

        for (size_t k = 0; k < N_KINDS; k++) {
                char *real = context(kinds[k], "\"Acme\"", "null");
                struct buf b = BUF_INIT(1 << 20);
                struct rendered3 t = { 0 }, o = { 0 };
                yajl_val doc;

                /* the same context with "test": true first */
                assert_int_equal(buf_printf(&b, "{\"test\":true,%s", real + 1), 0);
                render3(r, kinds[k], buf_cstr(&b), &t);
                assert_memory_equal(t.email.subject, "[TEST] ", 7);
                assert_contains(t.email.text, "TEST MESSAGE sent by cppo-notifyctl send-test");
                assert_contains(t.email.html, "TEST MESSAGE sent by cppo-notifyctl send-test");
                doc = assert_slack_valid(t.slack.body);
                assert_memory_equal(YAJL_GET_STRING(at(doc, "text", NULL, NULL)), "[TEST] ", 7);
                assert_contains(YAJL_GET_STRING(at(at(doc, "blocks", NULL, NULL)->u.array.values[0],
                                                   "elements", NULL, NULL)
                                                    ->u.array.values[0]
                                                    ->u.object.values[1]),
                                "*TEST MESSAGE*");
                yajl_tree_free(doc);
                doc = parse(t.file.body);
                assert_true(YAJL_IS_TRUE(at(doc, "test", NULL, NULL)));
                yajl_tree_free(doc);

                render3(r, kinds[k], real, &o);
                assert_null(strstr(o.email.subject, "[TEST]"));
                assert_null(strstr(o.email.text, "TEST MESSAGE"));
                assert_null(strstr(o.email.html, "TEST MESSAGE"));
                assert_null(strstr(o.slack.body, "TEST"));
                doc = parse(o.file.body);
                assert_true(YAJL_IS_FALSE(at(doc, "test", NULL, NULL)));
                yajl_tree_free(doc);
                rendered3_clear(&t);
                rendered3_clear(&o);
                buf_deinit(&b);
                free(real);
        }
        renderer_free(r);
}

static void subject_is_one_line(void **state)
{
        struct renderer *r = builtins();
        char *json = context("new_order", "\"Acme\\r\\nBcc: x@evil\\n\"", "null");
        struct rendered3 o = { 0 };

        render3(r, "new_order", json, &o);
        assert_null(strchr(o.email.subject, '\r'));
        assert_null(strchr(o.email.subject, '\n'));
        assert_contains(o.email.subject, "New order: Acme  Bcc: x@evil");
        assert_true(o.email.subject[strlen(o.email.subject) - 1] != ' ');
        rendered3_clear(&o);
        free(json);
        renderer_free(r);
}

static void payloads_stay_valid_json(void **state)
{
        static const char evil[] = "x\"}]},{\"a\":\"\\\\\n\ty";
        struct renderer *r = builtins();
        char *json = context("new_order", "\"x\\\"}]},{\\\"a\\\":\\\"\\\\\\\\\\n\\ty\"", "null");
        struct rendered3 o = { 0 };
        yajl_val doc;

        render3(r, "new_order", json, &o);
        doc = assert_slack_valid(o.slack.body);
        assert_contains(YAJL_GET_STRING(at(doc, "text", NULL, NULL)), evil);
        yajl_tree_free(doc);
        doc = parse(o.file.body);
        assert_string_equal(
            YAJL_GET_STRING(at(doc, "context", "opportunity", "buyer_company_name")), evil);
        yajl_tree_free(doc);
        assert_null(strchr(o.file.body, '\n'));
        rendered3_clear(&o);
        free(json);
        renderer_free(r);
}

/* ---- Slack limits ------------------------------------------------------- */

static void long_value_is_truncated(void **state)
{
        struct renderer *r = builtins();
        struct buf company = BUF_INIT(20000);
        struct rendered3 o = { 0 };
        yajl_val doc, blocks;
        size_t marked = 0;
        char *json;

        assert_int_equal(buf_putc(&company, '"'), 0);
        for (int i = 0; i < 10000; i++)
                assert_int_equal(buf_putc(&company, i % 2 ? 'x' : 'y'), 0);
        assert_int_equal(buf_putc(&company, '"'), 0);
        /* the company lands in header and fields, the reason in a section */
        json = context("new_order", buf_cstr(&company), buf_cstr(&company));
        render3(r, "new_order", json, &o);
        doc = assert_slack_valid(o.slack.body);
        blocks = at(doc, "blocks", NULL, NULL);
        for (size_t i = 0; i < blocks->u.array.len; i++) {
                yajl_val t = at(blocks->u.array.values[i], "text", "text", NULL);
                const char *type = YAJL_GET_STRING(
                    at(blocks->u.array.values[i], "type", NULL, NULL));
                size_t len = YAJL_IS_STRING(t) ? strlen(t->u.string) : 0;

                if (strcmp(type, "section") == 0 && len > 20 &&
                    strcmp(t->u.string + len - strlen("… (truncated)"), "… (truncated)") == 0) {
                        assert_int_equal(utf8_len(t->u.string), 3000);
                        marked++;
                }
        }
        assert_true(marked >= 1);
        assert_true(utf8_len(o.email.subject) <= 250);
        yajl_tree_free(doc);
        rendered3_clear(&o);
        free(json);
        buf_deinit(&company);
        renderer_free(r);
}

/* ---- overrides (temporary files) ---------------------------------------- */

struct tmp {
        char dir[64];
        char paths[8][128];
        size_t n;
};

static const char *tmp_file(struct tmp *t, const char *name, const char *content)
{
        char *p = t->paths[t->n++];
        char path[sizeof(t->paths[0])];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", t->dir, name);
        memcpy(p, path, sizeof(path));
        f = fopen(p, "w");
        assert_non_null(f);
        assert_int_equal(fputs(content, f) >= 0, 1);
        assert_int_equal(fclose(f), 0);
        return p;
}

static void tmp_init(struct tmp *t)
{
        memset(t, 0, sizeof(*t));
        snprintf(t->dir, sizeof(t->dir), "/tmp/cppo-render-XXXXXX");
        assert_non_null(mkdtemp(t->dir));
}

static void tmp_cleanup(struct tmp *t)
{
        for (size_t i = 0; i < t->n; i++)
                unlink(t->paths[i]);
        rmdir(t->dir);
}

/* A Teams card may not take a value into a property that holds a URL (no
 * data may form a link), and a template's own URL is fine. */
static void teams_url_refuses_data(void **state)
{
        struct tmp t;
        struct config cfg = { 0 };
        struct config_receiver rcvs[2] = { { .name = "bad", .type = CONFIG_RECEIVER_TEAMS },
                                           { .name = "ok", .type = CONFIG_RECEIVER_TEAMS } };
        struct notification n = { .kind = (char *)"new_order",
                                  .key = (char *)"k",
                                  .context_json = (char *)"{\"offer\":{\"id\":\"x\"}}" };
        struct renderer *r = NULL;
        struct rendered out = { 0 };
        char err[CPPO_ERRLEN] = "";

        tmp_init(&t);
        rcvs[0].templates.teams = tmp_file(
            &t, "bad.mustache",
            "{\"actions\":[{\"type\":\"Action.OpenUrl\",\"title\":\"Open\","
            "\"url\":\"https://example.test/{{offer.id}}\"}]}");
        rcvs[1].templates.teams = tmp_file(
            &t, "ok.mustache",
            "{\"actions\":[{\"type\":\"Action.OpenUrl\",\"title\":\"{{offer.id}}\","
            "\"url\":\"https://example.test/\"}]}");
        cfg.receivers = rcvs;
        cfg.receiver_count = 2;
        assert_int_equal(renderer_new(&r, &cfg, err, sizeof(err)), 0);
        assert_int_equal(render_notification(r, &rcvs[0], NULL, &n, &out, err, sizeof(err)),
                         -EINVAL);
        assert_contains(err, "\"url\" holds a value: no data may form a link");
        assert_int_equal(render_notification(r, &rcvs[1], NULL, &n, &out, err, sizeof(err)), 0);
        assert_contains(out.body, "\"url\":\"https://example.test/\"");
        rendered_clear(&out);
        renderer_free(r);
        tmp_cleanup(&t);
}

/* An override that knows nothing of tests, and one that writes its own
 * "test" and "version": the marker, the flag and the document version
 * still come out right. */
static void test_marker_survives_overrides(void **state)
{
        struct tmp t;
        struct config cfg = { 0 };
        struct config_receiver rcvs[2] = {
                { .name = "s", .type = CONFIG_RECEIVER_SLACK },
                { .name = "f", .type = CONFIG_RECEIVER_FILE },
        };
        struct notification n = { .kind = (char *)"new_order",
                                  .key = (char *)"k",
                                  .context_json = (char *)"{\"test\":true}" };
        struct renderer *r = NULL;
        struct rendered out = { 0 };
        char err[CPPO_ERRLEN] = "";
        const char *slack, *file;
        yajl_val doc;

        tmp_init(&t);
        slack = tmp_file(&t, "s.mustache",
                         "{\"blocks\":[{\"type\":\"section\",\"text\":{\"type\":\"mrkdwn\","
                         "\"text\":\"deal\"}}]}");
        file = tmp_file(&t, "f.mustache", "{\"test\":false,\"version\":7,\"x\":1}");
        rcvs[0].templates.slack = slack;
        rcvs[1].templates.file = file;
        cfg.receivers = rcvs;
        cfg.receiver_count = 2;
        assert_int_equal(renderer_new(&r, &cfg, err, sizeof(err)), 0);
        assert_int_equal(render_notification(r, &rcvs[0], NULL, &n, &out, err, sizeof(err)), 0);
        doc = assert_slack_valid(out.body);
        assert_memory_equal(YAJL_GET_STRING(at(doc, "text", NULL, NULL)), "[TEST] ", 7);
        assert_int_equal(at(doc, "blocks", NULL, NULL)->u.array.len, 2);
        yajl_tree_free(doc);
        rendered_clear(&out);
        assert_int_equal(render_notification(r, &rcvs[1], NULL, &n, &out, err, sizeof(err)), 0);
        assert_string_equal(out.body, "{\"version\":1,\"x\":1,\"test\":true}");
        rendered_clear(&out);
        renderer_free(r);
        tmp_cleanup(&t);
}

static void sixty_blocks_cut_to_fifty(void **state)
{
        struct buf src = BUF_INIT(1 << 16);
        struct config_receiver rcv = { .name = "s", .type = CONFIG_RECEIVER_SLACK };
        struct config cfg = { .receivers = &rcv, .receiver_count = 1 };
        struct notification n = { .kind = (char *)"new_order", .key = (char *)"new_order/a" };
        struct rendered out = { 0 };
        struct renderer *r = NULL;
        char err[CPPO_ERRLEN];
        struct tmp t;
        yajl_val doc, blocks, last;

        tmp_init(&t);
        assert_int_equal(buf_puts(&src, "{\"blocks\": ["), 0);
        for (int i = 0; i < 60; i++)
                assert_int_equal(buf_printf(&src,
                                            "%s{\"type\": \"section\", \"text\": {\"type\": "
                                            "\"mrkdwn\", \"text\": \"block %d {{key}}\"}}",
                                            i ? "," : "", i),
                                 0);
        assert_int_equal(buf_puts(&src, "]}"), 0);
        rcv.templates.slack = tmp_file(&t, "sixty.slack.mustache", buf_cstr(&src));
        n.context_json = context("new_order", "\"Acme\"", "null");
        assert_int_equal(renderer_new(&r, &cfg, err, sizeof(err)), 0);
        assert_int_equal(renderer_template_count(r), N_PARTS * N_KINDS + 1);
        assert_int_equal(render_notification(r, &rcv, NULL, &n, &out, err, sizeof(err)), 0);
        doc = assert_slack_valid(out.body);
        blocks = at(doc, "blocks", NULL, NULL);
        assert_int_equal(blocks->u.array.len, 50);
        assert_string_equal(YAJL_GET_STRING(at(blocks->u.array.values[48], "text", "text", NULL)),
                            "block 48 new_order/agmt-7f3k2");
        last = blocks->u.array.values[49];
        assert_string_equal(YAJL_GET_STRING(at(last, "type", NULL, NULL)), "context");
        assert_contains(
            YAJL_GET_STRING(
                at(last, "elements", NULL, NULL)->u.array.values[0]->u.object.values[1]),
            "11 more blocks dropped");
        /* no "text" in the template: the fallback names the kind and key */
        assert_string_equal(YAJL_GET_STRING(at(doc, "text", NULL, NULL)), "New order: new_order/a");
        yajl_tree_free(doc);
        rendered_clear(&out);
        renderer_free(r);
        free(n.context_json);
        buf_deinit(&src);
        tmp_cleanup(&t);
}

static const char *subject_of(const struct renderer *r, const struct config_receiver *rcv,
                              const struct config_rule *rule, const char *kind, char *buf,
                              size_t len)
{
        struct notification n = { .kind = (char *)kind, .key = (char *)"k" };
        struct rendered out = { 0 };
        char err[CPPO_ERRLEN];

        n.context_json = context(kind, "\"Acme\"", "null");
        assert_int_equal(render_notification(r, rcv, rule, &n, &out, err, sizeof(err)), 0);
        snprintf(buf, len, "%s", out.subject);
        rendered_clear(&out);
        free(n.context_json);
        return buf;
}

static void override_precedence(void **state)
{
        struct config_receiver rcv[2] = { { .name = "plain", .type = CONFIG_RECEIVER_EMAIL },
                                          { .name = "custom", .type = CONFIG_RECEIVER_EMAIL } };
        struct config_rule rule = { .name = "rule" };
        struct config cfg = {
                .receivers = rcv, .receiver_count = 2, .rules = &rule, .rule_count = 1
        };
        struct renderer *r = NULL;
        char err[CPPO_ERRLEN], s[512];
        struct tmp t;

        tmp_init(&t);
        cfg.templates_dir = t.dir;
        tmp_file(&t, "new_order.subject.mustache", "dir {{opportunity.id}}");
        rcv[1].templates.subject = tmp_file(&t, "rcv.mustache", "receiver {{offer.id}}");
        rule.templates.subject = tmp_file(&t, "rule.mustache", "rule {{view.kind_title}}\n");
        assert_int_equal(renderer_new(&r, &cfg, err, sizeof(err)), 0);
        assert_int_equal(renderer_template_count(r), N_PARTS * N_KINDS + 3);

        assert_string_equal(subject_of(r, &rcv[1], &rule, "new_order", s, sizeof(s)),
                            "rule New order");
        assert_string_equal(subject_of(r, &rcv[0], &rule, "order_ended", s, sizeof(s)),
                            "rule Order ended");
        assert_string_equal(subject_of(r, &rcv[1], NULL, "new_order", s, sizeof(s)),
                            "receiver offer-abc123");
        assert_string_equal(subject_of(r, &rcv[0], NULL, "new_order", s, sizeof(s)),
                            "dir ra-9x8y7");
        /* no file in templates_dir for this kind: the built-in */
        assert_string_equal(subject_of(r, &rcv[0], NULL, "order_ended", s, sizeof(s)),
                            "Order ended: Widget Pro for Acme via Partner X, status ACTIVE "
                            "(opportunity ra-9x8y7)");
        renderer_free(r);
        tmp_cleanup(&t);
}

/* ---- errors ------------------------------------------------------------- */

static void override_errors(void **state)
{
        struct config_receiver rcv = { .name = "s", .type = CONFIG_RECEIVER_SLACK };
        struct config cfg = { .receivers = &rcv, .receiver_count = 1 };
        struct notification n = { .kind = (char *)"new_order", .key = (char *)"k" };
        struct rendered out = { 0 };
        struct renderer *r = NULL;
        char err[CPPO_ERRLEN], want[256];
        struct tmp t;

        tmp_init(&t);
        snprintf(want, sizeof(want), "%s/missing.mustache", t.dir);
        rcv.templates.slack = want;
        assert_int_equal(renderer_new(&r, &cfg, err, sizeof(err)), -ENOENT);
        assert_null(r);
        assert_contains(err, want);

        rcv.templates.slack = tmp_file(&t, "bad.mustache",
                                       "{\"text\": \"x\",\n  \"b\": \"{{#a}}\"}");
        assert_int_equal(renderer_new(&r, &cfg, err, sizeof(err)), -EINVAL);
        snprintf(want, sizeof(want), "%s:2:", rcv.templates.slack);
        assert_contains(err, want);

        rcv.templates.slack = tmp_file(&t, "notjson.mustache", "{\"text\": \"{{key}}\",}");
        assert_int_equal(renderer_new(&r, &cfg, err, sizeof(err)), 0);
        n.context_json = (char *)"{\"key\":\"k\"}";
        assert_int_equal(render_notification(r, &rcv, NULL, &n, &out, err, sizeof(err)), -EINVAL);
        assert_contains(err, "output is not valid JSON");
        assert_null(out.body);
        n.kind = (char *)"bogus";
        assert_int_equal(render_notification(r, &rcv, NULL, &n, &out, err, sizeof(err)), -EINVAL);
        assert_contains(err, "unknown notification kind 'bogus'");
        n.kind = (char *)"new_order";
        n.context_json = (char *)"not json";
        assert_int_equal(render_notification(r, NULL, NULL, &n, &out, err, sizeof(err)), -EINVAL);
        assert_contains(err, "context is not a JSON object");
        renderer_free(r);
        tmp_cleanup(&t);
}

/* ---- golden ------------------------------------------------------------- */

static char *slurp(const char *name)
{
        char path[512];
        struct buf b = BUF_INIT(1 << 20);
        char chunk[4096];
        size_t n;
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", RENDER_FIXTURES, name);
        f = fopen(path, "rb");
        if (f == NULL)
                fprintf(stderr, "# cannot open %s\n", path);
        assert_non_null(f);
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
                assert_int_equal(buf_append(&b, chunk, n), 0);
        fclose(f);
        assert_int_equal(buf_putc(&b, '\0'), 0);
        return buf_steal(&b);
}

/* CPPO_UPDATE_GOLDEN=1 rewrites the expected files (review the diff). */
static void update_golden(const char *got, const char *name)
{
        char path[512];
        FILE *f;

        snprintf(path, sizeof path, "%s/%s", RENDER_FIXTURES, name);
        f = fopen(path, "w");
        assert_non_null(f);
        fputs(got, f);
        fclose(f);
}

static void assert_golden(const char *got, const char *name)
{
        char *want;

        if (getenv("CPPO_UPDATE_GOLDEN"))
                update_golden(got, name);
        want = slurp(name);

        if (strcmp(got, want) != 0)
                fprintf(stderr, "# %s differs; got:\n%s\n", name, got);
        assert_string_equal(got, want);
        free(want);
}

static void golden_new_order(void **state)
{
        struct renderer *r = builtins();
        char *json = slurp("new_order.context.json");
        struct rendered3 o = { 0 };

        render3(r, "new_order", json, &o);
        assert_golden(o.email.subject, "new_order.subject");
        assert_golden(o.email.text, "new_order.text");
        assert_golden(o.email.html, "new_order.html");
        assert_golden(o.slack.body, "new_order.slack.json");
        assert_golden(o.file.body, "new_order.file.json");
        rendered3_clear(&o);
        free(json);
        renderer_free(r);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(every_kind_renders_realistic_context),
                cmocka_unit_test(link_corrected_names_both_sides),
                cmocka_unit_test(every_kind_renders_nulls),
                cmocka_unit_test(html_escapes_script),
                cmocka_unit_test(hostile_crm_strings),
                cmocka_unit_test(test_marker_in_every_channel),
                cmocka_unit_test(test_marker_survives_overrides),
                cmocka_unit_test(subject_is_one_line),
                cmocka_unit_test(payloads_stay_valid_json),
                cmocka_unit_test(long_value_is_truncated),
                cmocka_unit_test(sixty_blocks_cut_to_fifty),
                cmocka_unit_test(override_precedence),
                cmocka_unit_test(override_errors),
                cmocka_unit_test(golden_new_order),
                cmocka_unit_test(webhook_body_is_the_file_document),
                cmocka_unit_test(teams_url_refuses_data),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
