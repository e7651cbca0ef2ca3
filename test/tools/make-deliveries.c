/* make-deliveries DB: creates (or opens) the store at DB through the store
 * API and writes four deliveries with a known history, for the
 * `cppo-notifyctl deliveries` integration test (deliveries-cli.py):
 *
 *   new_order/agmt-1/ops            email  sent    1 attempt  (250)
 *   new_order/agmt-1/sales          slack  dead    2 attempts (503 retry, 404 dead)
 *   partner_offer_extended/o-2/ops  email  queued  0 attempts
 *   amended_offer/agmt-3/ops        email  dead    1 attempt  (550)
 *
 * created in that order, one second apart from T0. Every payload is
 * PAYLOAD, byte for byte. And three notifications: new_order/agmt-1
 * (routed), order_ended/agmt-4 then attention_needed/o-5 (no rule matched,
 * opportunity ra-5 on the second). Exit 0, or 1 with a reason on stderr. */
#include "cppo/delivery.h"
#include "cppo/error.h"
#include "cppo/store.h"

#include <stdio.h>
#include <string.h>

#define T0      1764000000000LL /* 2025-11-24T16:00:00Z */
#define PAYLOAD "Subject: New order\r\nTo: <ops@example.com>\r\n\r\nCaf\xc3\xa9 \xe2\x82\xac 12\r\n"

static int add(struct store *s, const char *key, const char *receiver, const char *channel,
               int64_t created)
{
        char k[128], nkey[128], kind[64], recv[32], chan[16],
            rule[] = "everything", payload[] = PAYLOAD, rcpt[] = "ops@example.com";
        char *rcpts[] = { rcpt };
        struct delivery d = {
                .key = k,
                .notification_key = nkey,
                .kind = kind,
                .receiver = recv,
                .channel = chan,
                .rule = rule,
                .payload = payload,
                .payload_len = sizeof payload - 1,
                .created_at_ms = created,
                .updated_at_ms = created,
                .next_at_ms = created,
                .recipients = { rcpts, 1 },
        };

        snprintf(k, sizeof k, "%s", key);
        snprintf(kind, sizeof kind, "%.*s", (int)strcspn(key, "/"), key);
        snprintf(nkey, sizeof nkey, "%.*s", (int)(strrchr(key, '/') - key), key);
        snprintf(recv, sizeof recv, "%s", receiver);
        snprintf(chan, sizeof chan, "%s", channel);
        return store_delivery_add(s, &d) == 1 ? 0 : -EIO;
}

static int attempt(struct store *s, const char *key, int64_t at, const char *outcome, int code,
                   const char *error, enum delivery_status st)
{
        struct delivery_attempt a = { key, at, outcome, code, 40, error, NULL };

        if (store_delivery_claim(s, key, at) != 1)
                return -EIO;
        return store_delivery_finish(s, &a, st, st == DELIVERY_QUEUED ? at + 60000 : 0);
}

static int notify(struct changeset *cs, const char *key, const char *opportunity, int64_t at)
{
        char kind[64], k[128], ctx[] = "{}", opp[32];
        struct notification n = { .kind = kind,
                                  .key = k,
                                  .context_json = ctx,
                                  .opportunity_id = opportunity ? opp : NULL,
                                  .created_at = at };

        snprintf(kind, sizeof kind, "%.*s", (int)strcspn(key, "/"), key);
        snprintf(k, sizeof k, "%s", key);
        snprintf(opp, sizeof opp, "%s", opportunity ? opportunity : "");
        return changeset_add_notification(cs, &n);
}

static int notifications(struct store *s)
{
        struct changeset cs = { 0 };
        int r = 0;

        r = r ? r : notify(&cs, "new_order/agmt-1", NULL, T0 / 1000);
        r = r ? r : notify(&cs, "order_ended/agmt-4", NULL, T0 / 1000 + 1);
        r = r ? r : notify(&cs, "attention_needed/o-5", "ra-5", T0 / 1000 + 2);
        r = r ? r : store_begin(s);
        r = r ? r : store_apply(s, &cs, NULL);
        r = r ? r : store_commit(s);
        changeset_clear(&cs);
        r = r ? r : store_notification_routed(s, "new_order/agmt-1", true);
        r = r ? r : store_notification_routed(s, "order_ended/agmt-4", false);
        r = r ? r : store_notification_routed(s, "attention_needed/o-5", false);
        return r;
}

static int fill(struct store *s)
{
        int r = 0;

        r = r ? r : add(s, "new_order/agmt-1/ops", "ops", "email", T0);
        r = r ? r : add(s, "new_order/agmt-1/sales", "sales", "slack", T0 + 1000);
        r = r ? r : add(s, "partner_offer_extended/o-2/ops", "ops", "email", T0 + 2000);
        r = r ? r : add(s, "amended_offer/agmt-3/ops", "ops", "email", T0 + 3000);
        r = r ? r : attempt(s, "new_order/agmt-1/ops", T0 + 5000, "sent", 250, NULL, DELIVERY_SENT);
        r = r ? r
              : attempt(s, "new_order/agmt-1/sales", T0 + 6000, "retry", 503,
                        "503 Service Unavailable", DELIVERY_QUEUED);
        r = r ? r
              : attempt(s, "new_order/agmt-1/sales", T0 + 70000, "dead", 404,
                        "404 no_service\r\nbody", DELIVERY_DEAD);
        r = r ? r
              : attempt(s, "amended_offer/agmt-3/ops", T0 + 8000, "dead", 550,
                        "550 5.1.1 user unknown", DELIVERY_DEAD);
        return r ? r : notifications(s);
}

int main(int argc, char **argv)
{
        struct store *s = NULL;
        char err[CPPO_ERRLEN];
        int r;

        if (argc != 2) {
                fprintf(stderr, "usage: make-deliveries DB\n");
                return 1;
        }
        if (store_open(&s, argv[1], NULL, err, sizeof err) < 0) {
                fprintf(stderr, "make-deliveries: %s\n", err);
                return 1;
        }
        r = fill(s);
        store_close(s);
        if (r < 0)
                fprintf(stderr, "make-deliveries: cannot write the deliveries\n");
        return r < 0 ? 1 : 0;
}
