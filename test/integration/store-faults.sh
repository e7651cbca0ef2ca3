#!/usr/bin/env bash
# The daemon never commits Kafka offsets for work that is not in the real
# store, and says what is wrong with a store:
#   - the store file deleted while the daemon runs: it stores no offsets
#     for what it consumed after, exits non-zero, and once restarted the
#     events consumed after the deletion all reach the new store;
#   - a damaged store: refused at start, naming the recovery steps;
#   - another writer holding the lock for 8 s (longer than SQLite's old 5 s
#     budget): the daemon waits and goes on, exit 0 at SIGTERM.
# TAP. Usage: store-faults.sh CPPO_NOTIFYD CPPO_NOTIFYCTL (needs MOCK_KAFKA,
# CPPO_SOURCE_ROOT)
set -uo pipefail
source "$CPPO_SOURCE_ROOT/test/tools/peers.sh"
source "$CPPO_SOURCE_ROOT/test/tools/tap.sh"
daemon=$(realpath "$1")
ctl=$(realpath "$2")
work=$PEER_TMP

# count events (direct offers: recorded, nobody told), ids PREFIX-1..N
produce() { # prefix count
  for i in $(seq 1 "$2"); do
    printf '{"version":"0","id":"%s-%d","detail-type":"Offer Released","source":"aws.marketplacecatalog","account":"111122223333","time":"2025-03-04T09:15:27Z","detail":{"offer":{"id":"offer-%s-%d"},"product":{"id":"prod-s"},"manufacturer":{"accountId":"111122223333"},"sellerOfRecord":{"accountId":"111122223333"}}}\n' "$1" "$i" "$1" "$i"
  done | kcat -P -b "$KAFKA_BROKERS" -t mp-events
}
# The ledger keeps digests, not keys: each event records its offer in the
# same transaction, so the offers of a batch count its events.
ledger() { # prefix -> events of that batch in the store at $db
  sqlite3 "$db" "SELECT COUNT(*) FROM offers WHERE id LIKE 'offer-$1-%'" 2>/dev/null || echo 0
}
start_daemon() { # log
  "$daemon" --config "$work/cppo-notify.yaml" --log-level info 2>>"$1" &
  DAEMON_PID=$!
  peer_track "$DAEMON_PID"
}
exited_within() { # seconds -> status in $status
  for _ in $(seq 1 $(($1 * 10))); do
    kill -0 "$DAEMON_PID" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$DAEMON_PID" 2>/dev/null; then
    kill -KILL "$DAEMON_PID"
    wait "$DAEMON_PID" 2>/dev/null
    status=running
    return 1
  fi
  status=0
  wait "$DAEMON_PID" || status=$?
}

peer_start_mock_kafka --brokers 1 --topic mp-events:1
db="$work/state.db"
daemon_test_config store-faults "$db" "$work/audit.jsonl" >"$work/cppo-notify.yaml"

# ---- the store deleted while running
start_daemon "$work/daemon1.log"
produce a 300
tap_ok "the first 300 events are stored" wait_for "ledger a" 300 60
rm -f "$db"
produce b 300
tap_ok "the daemon stops once its store is gone" exited_within 30
tap_ok "... with a non-zero status" test "$status" != 0 -a "$status" != running
tap_ok "... saying why" grep -q "store lost, offsets not stored" "$work/daemon1.log"
start_daemon "$work/daemon2.log"
tap_ok "restarted, every event consumed after the deletion reaches the new store" \
  wait_for "ledger b" 300 60
tap_comment "after the unlink: $(ledger b)/300 events of the second batch in the new store"
kill -TERM "$DAEMON_PID"
exited_within 30
tap_ok "SIGTERM: exit 0" test "$status" = 0

# Another writer: takes the store's write lock for SECONDS in the
# background (LOCK_PID), then lets it go; returns once it is held.
hold_lock() { # seconds
  python3 - "$db" "$1" <<'PY' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
c.execute("BEGIN EXCLUSIVE")
time.sleep(float(sys.argv[2]))
c.execute("COMMIT")
PY
  LOCK_PID=$!
  peer_track "$LOCK_PID"
  sleep 0.5
}

# ---- another writer holds the lock for 8 s
start_daemon "$work/daemon3.log"
wait_for "ledger b" 300 30 >/dev/null
hold_lock 8
produce c 50
wait "$LOCK_PID"
tap_ok "with the lock held 8 s, the daemon waits and stores the events after" \
  wait_for "ledger c" 50 30
tap_ok "... and is still running" kill -0 "$DAEMON_PID"
kill -TERM "$DAEMON_PID"
exited_within 30
tap_ok "SIGTERM: exit 0" test "$status" = 0

# ---- a lock held past store.busy_timeout: SQLite's own words, exit non-zero
printf 'store:\n  path: %s\n  busy_timeout: 2s\n' "$db" >"$work/busy.store"
sed '/^store:/,/^  path:/d' "$work/cppo-notify.yaml" >"$work/busy.yaml"
cat "$work/busy.store" >>"$work/busy.yaml"
"$daemon" --config "$work/busy.yaml" --log-level info 2>>"$work/daemon4.log" &
DAEMON_PID=$!
peer_track "$DAEMON_PID"
wait_for "grep -c 'consuming' '$work/daemon4.log'" 1 30 >/dev/null
hold_lock 8
produce d 5
tap_ok "a lock held past busy_timeout (2 s): the daemon gives up" exited_within 20
tap_ok "... with a non-zero status" test "$status" != 0 -a "$status" != running
tap_ok "... logging SQLite's own message" grep -q 'store_error="database is locked' "$work/daemon4.log"
tap_ok "... and where the failure began" grep -q 'origin=store.c:[0-9]' "$work/daemon4.log"
wait "$LOCK_PID"
start_daemon "$work/daemon5.log"
tap_ok "restarted, the events of that batch are stored" wait_for "ledger d" 5 30
kill -TERM "$DAEMON_PID"
exited_within 30

# ---- a damaged store is refused at start
cp "$db" "$work/damaged.db"
pages=$(($(stat -c %s "$work/damaged.db") / 4096))
# every page but the first (schema) gets a garbage b-tree header
for p in $(seq 1 $((pages - 1))); do
  printf '\377\377\377\377\377\377\377\377' |
    dd of="$work/damaged.db" bs=1 seek=$((p * 4096)) conv=notrunc status=none
done
sed "s|$db|$work/damaged.db|" "$work/cppo-notify.yaml" >"$work/damaged.yaml"
"$daemon" --config "$work/damaged.yaml" 2>"$work/damaged.log" &
DAEMON_PID=$!
peer_track "$DAEMON_PID"
tap_ok "a damaged store: the daemon refuses to start" exited_within 30
tap_ok "... with a non-zero status" test "$status" != 0 -a "$status" != running
tap_ok "... naming the damage and the recovery" \
  grep -Eq "(malformed|damaged).*\.recover.*restore the latest backup" "$work/damaged.log"
"$ctl" check --state "$work/damaged.db" >"$work/check-bad.out" 2>&1 && rc=0 || rc=$?
tap_ok "check --state on the damaged copy: exit 1 with the recovery" \
  eval '[ "$rc" = 1 ] && grep -Eq "(malformed|damaged).*\.recover" "$work/check-bad.out"'
"$ctl" check --state "$db" >"$work/check-good.out" 2>&1 && rc=0 || rc=$?
tap_ok "check --state on the real store: quick_check ok" \
  eval '[ "$rc" = 0 ] && grep -q "quick_check ok" "$work/check-good.out"'

tap_passing || for f in "$work"/*.log; do tap_comment "== $f"; tail -15 "$f" | tap_comment; done
tap_done
