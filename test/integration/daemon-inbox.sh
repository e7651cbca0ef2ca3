#!/usr/bin/env bash
# The daemon applies CLI commands from the store's inbox on its next batch,
# while it consumes Kafka: `authorization add` (no --apply) becomes a stored
# authorization; a partner Offer Released from the topic nobody can link is
# held; `associate` (no --apply) releases it with a late
# partner_offer_extended; the inbox ends empty; SIGTERM exits 0. TAP.
# Usage: daemon-inbox.sh CPPO_NOTIFYD CPPO_NOTIFYCTL  (needs MOCK_KAFKA, CPPO_SOURCE_ROOT)
set -uo pipefail
source "$CPPO_SOURCE_ROOT/test/tools/peers.sh"
source "$CPPO_SOURCE_ROOT/test/tools/tap.sh"
daemon=$(realpath "$1")
ctl=$(realpath "$2")
work=$PEER_TMP

peer_start_mock_kafka --brokers 1 --topic mp-events:1
daemon_test_config inbox-test "$work/state.db" "$work/notifications.jsonl" >"$work/cppo-notify.yaml"
cfg=(--config "$work/cppo-notify.yaml")

"$daemon" "${cfg[@]}" --log-level warning 2>>"$work/daemon.log" &
DAEMON_PID=$!
peer_track "$DAEMON_PID"
wait_for "ls '$work/state.db' | wc -l" 1 30

# naming no buyers: it may own the offer below, but is never inferred
"$ctl" authorization add "${cfg[@]}" --id ra-daemon-1 --product-id prod-d \
  --reseller-account-id 444455556666 >"$work/add.out"
tap_ok "authorization add queues for the daemon" grep -q "queued as inbox entry 1" "$work/add.out"
count_auth() { "$ctl" authorization list "${cfg[@]}" --json | grep -c '"id":"ra-daemon-1"'; }
tap_ok "the daemon applies it on its next batch" wait_for count_auth 1 30

# A partner offer: its only candidate names no buyers, so no inference: held.
printf '%s\n' '{"version":"0","id":"or-daemon-1","detail-type":"Offer Released","source":"aws.marketplacecatalog","account":"111122223333","time":"2025-03-04T09:15:27Z","detail":{"offer":{"id":"offer-daemon-1"},"product":{"id":"prod-d"},"manufacturer":{"accountId":"111122223333"},"sellerOfRecord":{"accountId":"444455556666"},"targetedBuyerAccountIds":["123412341234"]}}' |
  kcat -P -b "$KAFKA_BROKERS" -t mp-events
count_holds() { "$ctl" holds "${cfg[@]}" --json | grep -c '"offer_id":"offer-daemon-1"'; }
tap_ok "the Offer Released from Kafka is held" wait_for count_holds 1 60

"$ctl" associate "${cfg[@]}" --offer offer-daemon-1 --authorization ra-daemon-1 >"$work/assoc.out"
tap_ok "associate queues for the daemon" grep -q "queued as inbox entry 2" "$work/assoc.out"
# No command shows a notification's late flag, nor the inbox: the tables do.
released() {
  sqlite3 "$work/state.db" "SELECT COUNT(*) FROM notifications WHERE key =
    'partner_offer_extended/offer-daemon-1' AND late = 1 AND opportunity_id = 'ra-daemon-1'"
}
tap_ok "the daemon releases it: a late partner_offer_extended" wait_for released 1 30
tap_ok "no hold left" test "$("$ctl" holds "${cfg[@]}")" = "0 held offers"
tap_ok "the inbox is consumed" test "$(sqlite3 "$work/state.db" \
  'SELECT COUNT(*) FROM inbox WHERE consumed_at IS NULL')" = 0

kill -TERM "$DAEMON_PID"
status=0
wait "$DAEMON_PID" || status=$?
tap_ok "SIGTERM: exit 0" test "$status" -eq 0
tap_passing || tail -20 "$work/daemon.log" | tap_comment
tap_done
