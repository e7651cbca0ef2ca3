#!/usr/bin/env bash
# Issue 3 acceptance: cppo-notifyd consumes ~10,000 mixed messages (every
# envelope kind, 5% malformed) from the mock Kafka cluster over TCP, is
# SIGKILLed mid-stream (twice) and restarted, and in the end:
#   - the ledger holds exactly the event keys of every valid message;
#   - every malformed message is rejected, with its expected reason, and
#     kept once with its raw bytes (a message re-read after a kill is not
#     recorded twice);
#   - a final SIGTERM stops the daemon with exit status 0.
# Usage: ingest-crash.sh CPPO_NOTIFYD   (needs MOCK_KAFKA, CPPO_SOURCE_ROOT)
set -euo pipefail
source "$CPPO_SOURCE_ROOT/test/tools/peers.sh"
daemon=$(realpath "$1")
work=$PEER_TMP
gen="$CPPO_SOURCE_ROOT/test/integration/gen-events.py"

python3 "$gen" --deals 1360 --seed 11 --keyed --summary "$work/summary.json" >"$work/events.jsonl"
read -r messages valid malformed < <(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(d['messages'], d['valid'], d['malformed'])" "$work/summary.json")
echo "# $messages messages: $valid valid, $malformed malformed"

peer_start_mock_kafka --brokers 3 --topic mp-events:3
# small message sets: a fetch returns at least one whole set, so big ones
# would make the consumer (and its commits) advance in big leaps
kcat -P -b "$KAFKA_BROKERS" -t mp-events -K$'\t' -X batch.num.messages=25 -l "$work/events.jsonl"

daemon_test_config ingest-test "$work/state.db" "$work/notifications.jsonl" >"$work/cppo-notify.yaml"

ledger() { sqlite3 "$work/state.db" 'SELECT COUNT(*) FROM ledger' 2>/dev/null || echo 0; }
keys=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['event_keys']))" "$work/summary.json")

start_daemon() {
  "$daemon" --config "$work/cppo-notify.yaml" --log-level warning 2>>"$work/daemon.log" &
  DAEMON_PID=$!
  peer_track "$DAEMON_PID"
}

# Slow brokers as well: every fetch waits.
for b in 1 2 3; do [ "$(kafka_control "rtt $b 40")" = ok ]; done

# Kills at points where part of the stream is durable and part is not (the
# test fails if a kill comes after everything was consumed).
for kill in 1 2 3; do
  start_daemon
  wait_for ledger $((keys * kill / 5 + RANDOM % 300)) 120
  kill -KILL "$DAEMON_PID"
  wait "$DAEMON_PID" 2>/dev/null || true
  n=$(ledger)
  echo "# SIGKILL $kill after $n of $keys event keys"
  [ "$n" -lt "$keys" ] || { echo "kill $kill came after the whole stream"; exit 1; }
done
start_daemon
wait_for ledger "$keys" 120
# Let the last batches' rejections commit too, then stop cleanly.
wait_for "sqlite3 '$work/state.db' 'SELECT COUNT(DISTINCT partition || \"/\" || offset) FROM rejected'" "$malformed" 60
kill -TERM "$DAEMON_PID"
status=0
wait "$DAEMON_PID" || status=$?
[ "$status" -eq 0 ] || { echo "daemon exited $status after SIGTERM"; tail "$work/daemon.log"; exit 1; }

python3 - "$work/summary.json" "$work/state.db" <<'PY'
import hashlib, json, sqlite3, sys
want = json.load(open(sys.argv[1]))
db = sqlite3.connect(sys.argv[2])
# the ledger keeps the first 16 bytes of each key's SHA-256 (schema 9)
by_digest = {hashlib.sha256(k.encode()).digest()[:16]: k for k in want["event_keys"]}
got_keys = {d for (d,) in db.execute("SELECT key_digest FROM ledger")}
missing = sorted(by_digest[d] for d in set(by_digest) - got_keys)
extra = sorted(d.hex() for d in got_keys - set(by_digest))
assert not missing, "%d valid events never decoded, e.g. %s" % (len(missing), missing[:3])
assert not extra, "%d unexpected ledger digests, e.g. %s" % (len(extra), extra[:3])
rows = db.execute("SELECT partition, offset, reason, length(raw) FROM rejected").fetchall()
by_coord = {}
for p, o, reason, n in rows:
    assert n > 0, "a rejected input lost its raw bytes"
    by_coord.setdefault((p, o), set()).add(reason)
assert all(len(r) == 1 for r in by_coord.values()), "one message, two different reasons"
assert len(rows) == len(by_coord), "%d rows for %d rejected messages" % (len(rows), len(by_coord))
counts = {}
for reasons in by_coord.values():
    r = next(iter(reasons))
    counts[r] = counts.get(r, 0) + 1
assert counts == want["rejected_by_reason"], "rejections %s, expected %s" % (counts, want["rejected_by_reason"])
print("# ledger: %d event keys, exactly the valid ones; rejected: %d messages %s (%d rows)"
      % (len(got_keys), len(by_coord), counts, len(rows)))
PY

n=$("$(dirname "$daemon")/cppo-notifyctl" rejected --state "$work/state.db" --limit 0 --json | wc -l)
[ "$n" -eq "$malformed" ] || { echo "cppo-notifyctl rejected lists $n, expected $malformed"; exit 1; }
echo "# cppo-notifyctl rejected lists all $n"
