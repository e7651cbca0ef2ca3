#!/usr/bin/env bash
# Issue 16, a store that stays small: a store aged by a test clock shrinks
# as configured and keeps everything dedupe and correlation need.
#   1 `replay --config` of 150 deals (a file receiver: backfilled
#     deliveries with their bodies) plus malformed lines (rejected inputs);
#   2 `store stats` shows each table and what retention would remove;
#   3 `store prune --as-of` a date past every age: the ledger and the bodies
#     go, rejected inputs stay (retention.rejected: forever keeps them), the
#     notifications, records and delivery rows stay; the file shrinks;
#   4 replaying the original stream creates nothing new: the same
#     notifications and deliveries, nothing printed;
#   5 the daemon prunes on its own: with the ledger kept 1 s its first
#     pass (at start) removes every entry, says so once, and counts it in
#     cppo_store_pruned_total{kind="ledger"}.
# With CPPO_TEST_STORE=pg (retention-pg) the store is a PostgreSQL database:
# the same expectations, but for the file size (SQLite's own).
# Usage: retention.sh CPPO_NOTIFYCTL CPPO_NOTIFYD (needs MOCK_KAFKA, CPPO_SOURCE_ROOT)
set -uo pipefail
source "$CPPO_SOURCE_ROOT/test/tools/peers.sh"
source "$CPPO_SOURCE_ROOT/test/tools/tap.sh"
ctl=$(realpath "$1")
daemon=$(realpath "$2")
deals="$CPPO_SOURCE_ROOT/test/integration/deals.py"
work=$PEER_TMP
test_store_init || tap_bail "no store"
db=$(test_store "$work/state.db") || tap_bail "no store"
KAFKA_BROKERS=127.0.0.1:9 # never contacted: replay and store commands need no Kafka

daemon_test_config retention-test "$db" "$work/audit.jsonl" >"$work/cppo-notify.yaml"
cat >>"$work/cppo-notify.yaml" <<'YAML'
retention:
  rejected: forever
  batch: 100
YAML
rules_to_audit "$work"
cfg=(--config "$work/cppo-notify.yaml")
python3 "$deals" --first 0 --count 150 | cut -f2- >"$work/stream.jsonl"
for i in 1 2 3; do echo "{\"not\": json $i" >>"$work/stream.jsonl"; done

# the facts to compare, through the CLI's own JSON
facts() {
  "$ctl" deliveries "${cfg[@]}" --json --limit 100000 |
    python3 -c 'import json,sys; r=[json.loads(l) for l in sys.stdin]; print(len(r), len({x["key"] for x in r}))'
}
stat_of() { # table field
  "$ctl" store stats "${cfg[@]}" --json |
    python3 -c "import json,sys; d=json.load(sys.stdin); print([t['$2'] for t in d['tables'] if t['table']=='$1'][0])"
}
removable() { # kind
  "$ctl" store stats "${cfg[@]}" --json |
    python3 -c "import json,sys; d=json.load(sys.stdin); print([k['removable'] for k in d['retention'] if k['kind']=='$1'][0])"
}

"$ctl" replay "${cfg[@]}" "$work/stream.jsonl" 2>"$work/replay1.err"
tap_ok "the first replay records the stream (3 inputs rejected: exit 1)" test $? -eq 1
notifications=$(stat_of notifications rows)
ledger=$(stat_of ledger rows)
deliveries_before=$(facts)
tap_ok "it made notifications, ledger entries and deliveries" \
  test "$notifications" -gt 100 -a "$ledger" -gt 400 -a "${deliveries_before%% *}" -gt 100
tap_ok "store stats lists the rejected inputs" test "$(stat_of rejected rows)" -eq 3
tap_ok "nothing is old enough today (the stream is from this week)" test "$(removable ledger)" -eq 0
file_size() { if [ -f "$db" ]; then stat -c %s "$db"; else echo 0; fi; }
size_before=$(file_size)

"$ctl" store prune "${cfg[@]}" --dry-run --as-of 2040-01-01T00:00:00Z >"$work/dry.txt"
tap_ok "prune --dry-run counts every ledger entry as removable in 2040" \
  grep -Eq "^ledger +30d +$ledger\$" "$work/dry.txt"
tap_ok "and removes nothing" test "$(stat_of ledger rows)" -eq "$ledger"

"$ctl" store prune "${cfg[@]}" --as-of 2040-01-01T00:00:00Z >"$work/prune.txt"
tap_ok "prune exits 0" test $? -eq 0
tap_ok "it removed every ledger entry" grep -qx "ledger: $ledger removed" "$work/prune.txt"
tap_ok "it emptied every delivered body" grep -qx "bodies: ${deliveries_before%% *} removed" "$work/prune.txt"
tap_ok "rejected inputs are kept (rejected: forever)" grep -qx "rejected: 0 removed" "$work/prune.txt"
tap_ok "the ledger is empty" test "$(stat_of ledger rows)" -eq 0
tap_ok "notifications are kept" test "$(stat_of notifications rows)" -eq "$notifications"
tap_ok "delivery rows are kept" test "$(facts)" = "$deliveries_before"
size_after=$(file_size)
if [ "${CPPO_TEST_STORE:-sqlite}" = pg ]; then
  tap_ok "the store is on PostgreSQL (its notifications table holds them)" \
    test "$(store_sql "$db" 'SELECT COUNT(*) FROM notifications')" -eq "$notifications"
else
  tap_comment "store file: $size_before bytes before, $size_after after"
  tap_ok "the file shrank (free pages given back)" test "$size_after" -lt "$size_before"
fi
"$ctl" store prune "${cfg[@]}" --as-of 2040-01-01T00:00:00Z >"$work/prune2.txt"
tap_ok "a second prune finds nothing" \
  test "$(grep -c ': 0 removed' "$work/prune2.txt")" -eq 6

"$ctl" replay "${cfg[@]}" --print "$work/stream.jsonl" >"$work/replay2.out" 2>"$work/replay2.err"
tap_ok "replaying the original stream prints no new notification" test ! -s "$work/replay2.out"
tap_ok "and makes none" test "$(stat_of notifications rows)" -eq "$notifications"
tap_ok "and no new delivery" test "$(facts)" = "$deliveries_before"
tap_ok "its ledger entries are back" test "$(stat_of ledger rows)" -eq "$ledger"

# 5 the daemon's own passes
peer_start_mock_kafka --brokers 1 --topic mp-events:1
daemon_test_config retention-daemon "$db" "$work/audit.jsonl" >"$work/cppo-notify.yaml"
cat >>"$work/cppo-notify.yaml" <<'YAML'
retention:
  ledger: 1s
  interval: 1s
YAML
sleep 1.1 # every ledger entry is now older than 1 s
"$daemon" "${cfg[@]}" --log-level info 2>"$work/daemon.log" &
DAEMON_PID=$!
peer_track "$DAEMON_PID"
tap_ok "the daemon's first pass empties the ledger" wait_for "test \$(stat_of ledger rows) -eq 0 && echo 1" 1 20
passes() { grep -c "retention pass done removed=$ledger " "$work/daemon.log"; }
tap_ok "... and logs the pass with the rows removed" wait_for passes 1 20
port=$(sed -n 's/.*http listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/daemon.log" | head -1)
pruned() {
  curl -sf "http://127.0.0.1:$port/metrics" |
    awk '$1 == "cppo_store_pruned_total{kind=\"ledger\"}" { print $2 + 0 }'
}
tap_ok "cppo_store_pruned_total{kind=\"ledger\"} counts them" test "$(pruned)" = "$ledger"
tap_ok "notifications are still kept" test "$(stat_of notifications rows)" -eq "$notifications"
sleep 2.5 # two more passes, each with nothing to do
kill -TERM "$DAEMON_PID"
status=0
wait "$DAEMON_PID" || status=$?
tap_ok "SIGTERM: exit 0" test "$status" -eq 0
tap_ok "later passes, with nothing to remove, logged nothing" \
  test "$(grep -c 'retention pass' "$work/daemon.log")" -eq 1
tap_ok "the store is the one CPPO_TEST_STORE asks for" store_backend_ok "$db"
tap_passing || tail -20 "$work/daemon.log" | tap_comment
tap_done
