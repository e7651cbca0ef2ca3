#!/usr/bin/env bash
# Issue 11 item 3: history is recorded, not announced. Into one store:
#   a  `replay --config` of 3 deals records their 6 notifications and makes
#      their 6 deliveries "backfilled" (listed, counted apart, none queued);
#   b  `replay --config --notify` of 1 deal queues its 2 deliveries;
#   c  `replay --state` (no receivers known) of 2 deals marks their 4
#      notifications as history; the daemon later routes them as backfilled;
#   then the real daemon (mock Kafka, a file receiver) starts: it sends the
#   2 --notify deliveries and nothing else — the file holds exactly their
#   keys, the 10 backfilled deliveries stay backfilled with no attempt.
#   A replay after that of an inbox command (associate) announces it.
# With CPPO_TEST_STORE=pg (replay-backfill-pg) the store is a PostgreSQL
# database: the same expectations.
# Usage: replay-backfill.sh CPPO_NOTIFYD CPPO_NOTIFYCTL (needs MOCK_KAFKA, CPPO_SOURCE_ROOT)
set -uo pipefail
source "$CPPO_SOURCE_ROOT/test/tools/peers.sh"
source "$CPPO_SOURCE_ROOT/test/tools/tap.sh"
daemon=$(realpath "$1")
ctl=$(realpath "$2")
deals="$CPPO_SOURCE_ROOT/test/integration/deals.py"
work=$PEER_TMP
audit=$work/notifications.jsonl

q() { store_sql "$db" "$1"; }
status_count() { q "SELECT COUNT(*) FROM deliveries WHERE status = $1"; }
story() { python3 "$deals" --first "$1" --count "$2" | cut -f2- >"$work/$3.jsonl"; }

peer_start_mock_kafka --brokers 1 --topic mp-events:1
test_store_init || tap_bail "no store"
db=$(test_store "$work/state.db") || tap_bail "no store"
daemon_test_config backfill-test "$db" "$audit" >"$work/cppo-notify.yaml"
rules_to_audit "$work"
cfg=(--config "$work/cppo-notify.yaml")

# a: the default replay records history
story 0 3 history
"$ctl" replay "${cfg[@]}" "$work/history.jsonl" 2>"$work/a.err"
tap_ok "replay --config exits 0" test $? -eq 0
tap_ok "its summary counts 6 notifications and 6 backfilled deliveries" \
  grep -q "6 notifications, 6 deliveries (6 backfilled, not sent)" "$work/a.err"
tap_ok "the deliveries are stored as backfilled, none queued" \
  test "$(status_count 4)/$(status_count 0)" = "6/0"
"$ctl" deliveries "${cfg[@]}" --json >"$work/a.json"
tap_ok "deliveries --json shows status backfilled" \
  test "$(grep -c '"status":"backfilled"' "$work/a.json")" -eq 6
"$ctl" deliveries "${cfg[@]}" >"$work/a.txt"
tap_ok "deliveries counts them apart from queued and dead" \
  grep -q "in the store: 0 queued, 0 sending, 0 sent, 0 dead, 6 backfilled" "$work/a.txt"
"$ctl" deliveries "${cfg[@]}" --failed >/dev/null
tap_ok "backfilled deliveries are not failures: deliveries --failed exits 0" test $? -eq 0

# b: --notify delivers as before
story 5 1 news
"$ctl" replay "${cfg[@]}" --notify "$work/news.jsonl" 2>"$work/c.err"
tap_ok "replay --notify queues its 2 deliveries" \
  test "$(status_count 0)/$(status_count 4)" = "2/6"

# c: without a configuration, the notifications are marked as history
story 3 2 nocfg
"$ctl" replay --state "$db" "$work/nocfg.jsonl" 2>"$work/b.err"
tap_ok "replay --state exits 0 and says the daemon backfills" \
  grep -q "4 notifications (history: the daemon records their deliveries as backfilled)" \
  "$work/b.err"
tap_ok "its 4 notifications wait as history (routed = 3)" \
  test "$(q 'SELECT COUNT(*) FROM notifications WHERE routed = 3')" -eq 4

"$daemon" "${cfg[@]}" --log-level warning 2>>"$work/daemon.log" &
DAEMON_PID=$!
peer_track "$DAEMON_PID"
tap_ok "the daemon sends the 2 --notify deliveries" wait_for "status_count 2" 2 60
# Routing at start-up comes before the dispatcher's first pass: the --state
# history is routed by the time anything is sent.
tap_ok "the daemon routed the --state history as backfilled" \
  test "$(status_count 4)/$(q 'SELECT COUNT(*) FROM notifications WHERE routed = 3')" = "10/0"
keys=$(python3 -c 'import json,sys; print(" ".join(sorted(json.loads(l)["key"] for l in sys.stdin)))' <"$audit")
tap_ok "the file receiver got exactly the --notify deal" \
  test "$keys" = "new_order/agmt-e2e-5 partner_offer_extended/offer-e2e-5"
tap_ok "no backfilled delivery was attempted" \
  test "$(q 'SELECT COUNT(*) FROM attempts a JOIN deliveries d ON d.key = a.delivery_key WHERE d.status = 4')" -eq 0

kill -TERM "$DAEMON_PID"
status=0
wait "$DAEMON_PID" || status=$?
tap_ok "SIGTERM: exit 0" test "$status" -eq 0

# An inbox command applied by a replay is the operator's news, not history.
printf '%s\n' '{"version":"0","id":"or-bf-held","detail-type":"Offer Released","source":"aws.marketplacecatalog","account":"111122223333","time":"2025-03-04T09:15:27Z","detail":{"offer":{"id":"offer-bf-held"},"product":{"id":"prod-e2e0000000001"},"manufacturer":{"accountId":"111122223333"},"sellerOfRecord":{"accountId":"444455556666"},"targetedBuyerAccountIds":["123412341234"]}}' >"$work/held.jsonl"
"$ctl" replay "${cfg[@]}" "$work/held.jsonl" 2>/dev/null
"$ctl" associate "${cfg[@]}" --offer offer-bf-held --authorization resaleauthz-e2e-0 --force \
  --reason "replay test: an operator link" >/dev/null
"$ctl" replay "${cfg[@]}" - </dev/null 2>"$work/d.err"
tap_ok "a replay applying an associate queues its notification, not as history" \
  test "$(q "SELECT status FROM deliveries WHERE key = 'partner_offer_extended/offer-bf-held/audit'")" = 0

tap_ok "the store is the one CPPO_TEST_STORE asks for" store_backend_ok "$db"
tap_passing || cat "$work/daemon.log" "$work"/*.err | tail -30 | tap_comment
tap_done
