#!/usr/bin/env bash
# Issue 7 acceptance, the daemon's operations side, against the mock Kafka
# cluster over TCP:
#   1. /readyz answers 503 while the consumer has no partitions (brokers
#      down), 200 once it has;
#   2. /metrics counters equal what the test produced (consumed, decoded,
#      rejected) and notifications by kind equal the notifications table;
#   3. SIGHUP with a broken rules file logs path:line:col, keeps the running
#      configuration and keeps consuming;
#   4. SIGHUP with a valid changed configuration applies it (and says which
#      keys need a restart);
#   5. SIGTERM while events flow exits 0 within 10 s, and after a restart
#      finishes the stream the ledger holds exactly the valid events;
#   6. what the daemon tells systemd (a NOTIFY_SOCKET listener stands in for
#      it): READY=1, RELOADING=1/READY=1, WATCHDOG=1, STATUS=, STOPPING=1.
# Usage: daemon-ops.sh CPPO_NOTIFYD WITH_LIBSYSTEMD(true|false)
#        (needs MOCK_KAFKA, CPPO_SOURCE_ROOT)
set -euo pipefail
source "$CPPO_SOURCE_ROOT/test/tools/peers.sh"
source "$CPPO_SOURCE_ROOT/test/tools/tap.sh"
daemon=$(realpath "$1")
ctl=$(dirname "$daemon")/cppo-notifyctl
with_systemd=$2
work=$PEER_TMP
gen="$CPPO_SOURCE_ROOT/test/integration/gen-events.py"
log="$work/daemon.log"
tap_on_failure() { tap_comment "daemon log (tail):"; tail -20 "$log" | tap_comment; }

# Four streams with disjoint deal ids: before the reloads, after the broken
# one, after the valid one, and a long one cut by SIGTERM.
stream() { # name first-deal deals seed
  python3 "$gen" --first-deal "$2" --deals "$3" --seed "$4" --keyed --summary "$work/$1.json" \
    >"$work/$1.jsonl"
}
stream s1 0 60 21
stream s2 1000 30 22
stream s3 2000 30 23
stream s4 3000 600 24
field() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); v=d[sys.argv[2]]; print(len(v) if isinstance(v, list) else v)" "$work/$1.json" "$2"; }

peer_start_mock_kafka --brokers 3 --topic mp-events:3
produce() { kcat -P -b "$KAFKA_BROKERS" -t mp-events -K$'\t' -l "$work/$1.jsonl"; }

rules_to_audit "$work"
write_config() { # group offer_link_timeout
  daemon_test_config "$1" "$work/state.db" "$work/notifications.jsonl" >"$work/cppo-notify.yaml"
  cat >>"$work/cppo-notify.yaml" <<YAML
holds:
  offer_link_timeout: $2
rules_dir: rules.d
YAML
}
write_config ops-test 72h

# sd_notify's datagrams, one a line (skipped tests when built without
# libsystemd).
notify_log="$work/notify.log"
peer_listen_sd_notify "$work/notify.sock" "$notify_log"
: >"$notify_log"
notified() { grep -cE "$1" "$notify_log" || true; }
sd_check() { # like tap_ok, skipped without libsystemd (sd_notify is then a no-op)
  if [ "$with_systemd" = true ]; then tap_ok "$@"; else tap_skip "$1" "built without libsystemd"; fi
}

# No command lists the ledger, the rejected inputs' Kafka coordinates or the
# notifications by kind: those come from the tables themselves.
ledger() { sqlite3 "$work/state.db" 'SELECT COUNT(*) FROM ledger' 2>/dev/null || echo 0; }
rejected() { sqlite3 "$work/state.db" 'SELECT COUNT(DISTINCT partition || "/" || offset) FROM rejected' 2>/dev/null || echo 0; }
log_has() { grep -Eq "$1" "$log"; }
# wait_for runs its command under set -e: these never fail.
log_count() { grep -cE "$1" "$log" || true; }
truth() { if "$@"; then echo 1; else echo 0; fi; }
start_daemon() {
  : >"$log"
  # WATCHDOG_USEC: 2 s, so the daemon pings every second.
  NOTIFY_SOCKET=$work/notify.sock WATCHDOG_USEC=2000000 \
    "$daemon" --config "$work/cppo-notify.yaml" --log-level notice 2>>"$log" &
  DAEMON_PID=$!
  peer_track "$DAEMON_PID"
  wait_for "log_count 'http listening on'" 1 20
  PORT=$(sed -n 's/.*http listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | head -1)
}
http_code() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT$1" || true; }
metric() { # name{labels} -> value (0 when absent)
  curl -sf "http://127.0.0.1:$PORT/metrics" | awk -v m="$1" '$1 == m { v = $2 } END { print v + 0 }'
}
stop_daemon() { # -> exit status in STATUS, seconds taken in TOOK
  local start=$SECONDS
  kill -TERM "$DAEMON_PID"
  STATUS=0
  for _ in $(seq 1 100); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
  TOOK=$((SECONDS - start))
  kill -0 "$DAEMON_PID" 2>/dev/null && { STATUS=timeout; return; }
  wait "$DAEMON_PID" || STATUS=$?
}

# ---- 1. readiness follows the assignment
for b in 1 2 3; do [ "$(kafka_control "down $b")" = ok ]; done
start_daemon
codes=""
for _ in 1 2 3 4 5; do codes="$codes $(http_code /readyz)"; sleep 0.3; done
tap_ok "/readyz is 503 while no broker is reachable (got$codes)" [ "$codes" = " 503 503 503 503 503" ]
tap_ok "/healthz is 200 meanwhile" [ "$(http_code /healthz)" = 200 ]
for b in 1 2 3; do [ "$(kafka_control "up $b")" = ok ]; done
tap_ok "/readyz turns 200 once partitions are assigned" wait_for "truth [ \"\$(http_code /readyz)\" = 200 ]" 1 60
sd_check "READY=1 is sent once the consumer is assigned" wait_for "notified '^READY=1\$'" 1 10

# ---- 2. metrics match what was produced
produce s1
keys1=$(field s1 event_keys)
wait_for ledger "$keys1" 60
wait_for rejected "$(field s1 malformed)" 30
metrics_match() {
  local want_msgs want_keys want_rej
  want_msgs=$(field s1 messages) want_keys=$(field s1 event_keys) want_rej=$(field s1 malformed)
  [ "$(metric cppo_events_consumed_total)" = "$want_msgs" ] &&
    [ "$(metric cppo_events_decoded_total)" = "$want_keys" ] &&
    [ "$(metric cppo_events_rejected_total)" = "$want_rej" ]
}
tap_ok "consumed, decoded and rejected counters equal the stream ($(field s1 messages) messages, $keys1 events, $(field s1 malformed) malformed)" \
  wait_for "truth metrics_match" 1 20
kinds_match() { # every kind in the table has its counter, and the totals agree
  local kind n total=0 sum
  while IFS='|' read -r kind n; do
    [ "$(metric "cppo_notifications_total{kind=\"$kind\"}")" = "$n" ] || return 1
    total=$((total + n))
  done < <(sqlite3 "$work/state.db" 'SELECT kind, COUNT(*) FROM notifications GROUP BY kind')
  sum=$(curl -sf "http://127.0.0.1:$PORT/metrics" | awk '/^cppo_notifications_total\{/ { s += $2 } END { print s + 0 }')
  [ "$total" -gt 0 ] && [ "$sum" = "$total" ]
}
tap_ok "cppo_notifications_total by kind equals the notifications table ($(sqlite3 "$work/state.db" 'SELECT COUNT(*) FROM notifications') rows)" \
  wait_for "truth kinds_match" 1 20
curl -sf "http://127.0.0.1:$PORT/metrics" >"$work/metrics.txt"
declared() { for m in "$@"; do grep -q "^# TYPE $m " "$work/metrics.txt" || return 1; done; }
tap_ok "delivery, lag, holds and build metrics are exposed" declared cppo_deliveries_total \
  cppo_delivery_retries_total cppo_dead_letters_total cppo_deliveries_queued \
  cppo_delivery_latency_seconds cppo_kafka_consumer_lag cppo_holds_pending cppo_build_info \
  cppo_mail_recipients_refused_total

# Refreshed every 5 s: wait for the next refresh to show them.
lag_shown() { curl -sf "http://127.0.0.1:$PORT/metrics" | grep -cE '^cppo_kafka_consumer_lag\{topic="mp-events",partition="[0-2]"\} [0-9]+$' || true; }
tap_ok "consumer lag is shown for each of the 3 partitions" wait_for lag_shown 3 20
holds() { "$ctl" holds --state "$work/state.db" --json | wc -l; }
holds_shown() { [ "$(metric cppo_holds_pending)" = "$(holds)" ]; }
tap_ok "cppo_holds_pending equals the holds table ($(holds) rows)" \
  wait_for "truth holds_shown" 1 20

# ---- 3. a broken rules file is refused, the daemon keeps going
cat >"$work/rules.d/50-broken.yaml" <<'YAML'
rules:
  - name: broken
    match: {kind: [{exists: true}]}
    receivers: [nobody]
YAML
kill -HUP "$DAEMON_PID"
tap_ok "SIGHUP with a broken rules file logs path:line:col" \
  wait_for "log_count '$work/rules.d/50-broken.yaml:[0-9]+:[0-9]+: '" 1 20
tap_ok "... and keeps the running configuration" wait_for "log_count 'reload refused, keeping the running configuration'" 1 10
produce s2
want=$((keys1 + $(field s2 event_keys)))
tap_ok "... and keeps consuming ($want events in the ledger)" wait_for ledger "$want" 60
rm "$work/rules.d/50-broken.yaml"

# ---- 4. a valid change is applied; restart-only keys are named
write_config other-group 1h
kill -HUP "$DAEMON_PID"
wait_for "log_count 'reloaded path='" 1 20 || true
tap_ok "SIGHUP with a valid config applies it and names kafka.group as needing a restart" \
  eval "log_has 'reloaded path=' && log_has 'restart is needed to change kafka.group;'"
produce s3
want=$((want + $(field s3 event_keys)))
# holds.offer_link_timeout changed, so the pipeline was rebuilt from the
# store: it must go on where the old one stopped, counters included.
consumed_on() { [ "$(ledger)" = "$want" ] && [ "$(metric cppo_events_decoded_total)" = "$want" ]; }
tap_ok "the reloaded daemon consumes on ($want events in the ledger and in cppo_events_decoded_total)" \
  wait_for "truth consumed_on" 1 60
reload_sequence() { # READY=1, then RELOADING=1 (with its timestamp) and READY=1 per reload
  [ "$(grep -E '^(READY|RELOADING)=1' "$notify_log" | sed 's/ .*//' | tr '\n' ' ')" = \
    "READY=1 RELOADING=1 READY=1 RELOADING=1 READY=1 " ] && [ "$(notified '^RELOADING=1 MONOTONIC_USEC=[0-9]+$')" = 2 ]
}
sd_check "each reload is wrapped in RELOADING=1 ... READY=1" reload_sequence
watchdog_and_status() {
  [ "$(notified '^WATCHDOG=1$')" -ge 2 ] &&
    wait_for "notified '^STATUS=events/s=[0-9.]+ holds=[0-9]+ notifications=[1-9][0-9]* queued=[0-9]+\$'" 1 10
}
sd_check "WATCHDOG=1 pings at half of WATCHDOG_USEC, and STATUS= tells events/s, holds, notifications, queued deliveries" \
  watchdog_and_status

# ---- 5. SIGTERM under load, then a restart finishes the stream (in the
# group whose offsets were committed: a new group would re-read everything
# and hide a lost offset)
write_config ops-test 1h
for b in 1 2 3; do [ "$(kafka_control "rtt $b 40")" = ok ]; done
produce s4
all=$((want + $(field s4 event_keys)))
wait_for ledger $((want + 200)) 60
stop_daemon
n=$(ledger)
tap_comment "SIGTERM after $n of $all events: status $STATUS after ${TOOK}s"
[ "$n" -lt "$all" ] || tap_comment "(the stream was already complete: SIGTERM did not cut it)"
tap_ok "SIGTERM while events flow exits 0 within 10 s" [ "$STATUS" = 0 ]
sd_check "STOPPING=1 is sent on SIGTERM" [ "$(notified '^STOPPING=1$')" = 1 ]
start_daemon
wait_for ledger "$all" 120 || true
stop_daemon
# Every event key, compared: no command lists the ledger.
ledger_exact() {
  [ "$STATUS" = 0 ] && python3 - "$work/state.db" "$work"/s[1-4].json <<'PY'
import hashlib, json, sqlite3, sys
# the ledger keeps the first 16 bytes of each key's SHA-256 (schema 9)
want = {}
for f in sys.argv[2:]:
    for k in json.load(open(f))["event_keys"]:
        want[hashlib.sha256(k.encode()).digest()[:16]] = k
got = {d for (d,) in sqlite3.connect(sys.argv[1]).execute("SELECT key_digest FROM ledger")}
missing = sorted(want[d] for d in set(want) - got)
extra = got - set(want)
assert not missing, "%d valid events lost, e.g. %s" % (len(missing), missing[:3])
assert not extra, "%d unexpected ledger keys" % len(extra)
PY
}
tap_ok "after a restart the ledger holds exactly the $all valid events (exit $STATUS)" ledger_exact
tap_done
