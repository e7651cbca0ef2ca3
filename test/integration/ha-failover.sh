#!/usr/bin/env bash
# High availability, failover (issue 15 acceptance): two cppo-notifyd on one
# real PostgreSQL server and one mock Kafka cluster, deliveries to the real
# SMTP sink, webhook sink and a file.
#
#   R  the reference: one instance (ha.enabled: false) on a database of its
#      own consumes the whole stream uninterrupted;
#   H  two instances with election on another database, same stream (their
#      own consumer group): the leader is SIGKILLed at random points
#      ($kills times; the killed one is restarted as the new standby), then
#      its lock connection is terminated (pg_terminate_backend): it must stop
#      within ha.takeover and exit 75, claiming, routing or sending nothing
#      new after it (a send already in flight may complete).
#
# Afterwards (compared through cppo-notifyctl --json and the receivers'
# output, never raw SQL): H's notifications equal R's (the file receiver's
# lines, which carry each notification's whole context, and the deliveries
# listing), every delivery arrived at least once at each sink, duplicates
# only among deliveries in flight at a kill (counted and printed per
# receiver), and the takeover time per kill (p50/max) as TAP comments.
#
# Kill points come from $RANDOM seeded by HA_FAILOVER_SEED or the clock
# (printed). About a minute.
# Usage: ha-failover.sh CPPO_NOTIFYD   (needs MOCK_KAFKA, CPPO_SOURCE_ROOT)
set -euo pipefail
source "$CPPO_SOURCE_ROOT/test/tools/peers.sh"
source "$CPPO_SOURCE_ROOT/test/tools/tap.sh"
daemon=$(realpath "$1")
ctl=$(dirname "$daemon")/cppo-notifyctl
work=$PEER_TMP
chmod 0755 "$work" # smtp-sink runs as nobody and writes below here
gen="$CPPO_SOURCE_ROOT/test/integration/gen-events.py"
kills=5
takeover=10
lock_where="locktype = 'advisory' AND classid = 1668313199 AND objid = 762078322 AND granted"

seed=${HA_FAILOVER_SEED:-$(($(date +%s) % 32768))}
RANDOM=$seed
tap_comment "seed $seed (HA_FAILOVER_SEED=$seed repeats these kill points)"
truth() { if "$@"; then echo 1; else echo 0; fi; }

# ---- the stream and the peers
python3 "$gen" --deals 240 --seed 29 --keyed --interleave 20 --malformed-pct 0 \
  --summary "$work/summary.json" >"$work/events.jsonl"
keys=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['event_keys']))" "$work/summary.json")
tap_comment "events: $(wc -l <"$work/events.jsonl") messages, $keys distinct event keys, 240 deals"

peer_start_postgres || tap_bail "no PostgreSQL server"
peer_start_mock_kafka --brokers 3 --topic mp-events:3
kcat -P -b "$KAFKA_BROKERS" -t mp-events -K$'\t' -X batch.num.messages=25 -l "$work/events.jsonl"
peer_start_smtp_sink "$work/mail" 2>>"$work/peers.log"
# each post held 0.3 s: deliveries are in flight when a kill lands
peer_start_webhook_sink "$work/hooks.jsonl" --delay 0.3 2>>"$work/peers.log"
printf 'http://127.0.0.1:%s/services/T0HA/B0HA/not-a-real-secret\n' "$WEBHOOK_PORT" >"$work/hook-url"
chmod 0600 "$work/hook-url"

PGPASSWORD=$(cat "$PG_PASSWORD_FILE")
export PGPASSWORD
url_of() { echo "${PG_URL%/*}/$1"; }
psql_() { psql -qAtX "$(url_of "$1")" -c "$2"; }
psql_ cppo 'CREATE DATABASE ha' >/dev/null
psql_ cppo 'CREATE DATABASE ref' >/dev/null

write_config() { # name database group ha(true|false) receivers...
  local name=$1 db=$2 group=$3 ha=$4
  shift 4
  mkdir -p "$work/$name/rules.d"
  {
    kafka_test_yaml "$group"
    cat <<YAML
store:
  url: $(url_of "$db")
  password_file: $PG_PASSWORD_FILE
ha:
  enabled: $ha
  takeover: ${takeover}s
  poll: 1s
smtp:
  url: smtp://127.0.0.1:$SMTP_PORT
  from: cppo@ha-failover.test
  starttls: never
  timeout: 10s
receivers:
  mail:
    type: email
    to: [revops@ha-failover.test]
    concurrency: 8
  hooks:
    type: slack
    webhook_url_file: $work/hook-url
    rate: 1000
    concurrency: 8
  journal:
    type: file
    path: $work/$name-journal.jsonl
http:
  listen: 127.0.0.1:0
rules_dir: rules.d
YAML
  } >"$work/$name/cppo-notify.yaml"
  cat >"$work/$name/rules.d/10-all.yaml" <<YAML
rules:
  - name: everything
    match: {kind: [{exists: true}]}
    receivers: [$(IFS=,; echo "$*")]
YAML
}
write_config ref ref ha-failover-ref false journal
write_config x ha ha-failover-h true mail,hooks,journal
# x and y run the same configuration: one HA database, one file for the
# file receiver (only the leader writes it).

ledger() { psql_ "$1" 'SELECT COUNT(*) FROM ledger' 2>/dev/null || echo 0; }
epoch() { psql_ ha 'SELECT epoch FROM ha_leader' 2>/dev/null || echo 0; }
holder_pid() { psql_ ha 'SELECT holder FROM ha_leader' 2>/dev/null | sed 's/.*://'; }
deliveries_json() { # database -> every delivery, one JSON object per line
  "$ctl" deliveries --state "$(url_of "$1")" --json --limit 0
}
not_sent() { deliveries_json ha | grep -vc '"status":"sent"' || true; }
all_delivered() { [ "$(deliveries_json ha | wc -l)" -gt 0 ] && [ "$(not_sent)" = 0 ]; }

declare -A PID
start() { # instance
  "$daemon" --config "$work/x/cppo-notify.yaml" --log-level info 2>>"$work/$1.log" &
  PID[$1]=$!
  peer_track "${PID[$1]}"
}
other() { if [ "$1" = x ]; then echo y; else echo x; fi; }
leader_name() { # the instance whose pid holds the lead
  local p
  p=$(holder_pid)
  if [ "$p" = "${PID[x]:-}" ]; then echo x; elif [ "$p" = "${PID[y]:-}" ]; then echo y; fi
}
tap_on_failure() {
  local i
  for i in x y; do
    tap_comment "daemon $i log (tail):"
    tail -8 "$work/$i.log" 2>/dev/null | tap_comment
  done
}

# ---- R, the reference (uninterrupted), runs beside H in its own group and
# database; H: two instances, the leader killed $kills times.
"$daemon" --config "$work/ref/cppo-notify.yaml" --log-level warning 2>>"$work/ref.log" &
REF_PID=$!
peer_track "$REF_PID"
# slow brokers: the stream takes long enough for the kills to land in it
for b in 1 2 3; do [ "$(kafka_control "rtt $b 150")" = ok ]; done
start x
wait_for "truth [ \"\$(leader_name)\" = x ]" 1 20 || tap_bail "x did not take the lead"
start y
takeovers=()
inflight_keys="$work/inflight.txt"
: >"$inflight_keys"
note_inflight() { # the deliveries SENDING now
  deliveries_json ha | python3 -c '
import json, sys
for line in sys.stdin:
    d = json.loads(line)
    if d["status"] == "sending":
        print(d["key"])' >>"$inflight_keys"
}
n=0
for k in $(seq 1 $kills); do
  # one point in each of the first $kills of $((kills + 1)) slices of the
  # stream; once it is all consumed, the kills land in the dispatch
  aim=$((keys * (k - 1) / (kills + 1) + RANDOM % (keys / (kills + 1)) + 1))
  aim=$((aim > n ? aim : n + 1))
  aim=$((aim < keys ? aim : keys))
  wait_for "ledger ha" "$aim" 30 || true
  L=$(leader_name)
  [ -n "$L" ] || tap_bail "no leader before kill $k"
  before=$(epoch)
  n=$(ledger ha)
  # What is in flight may be sent twice, never lost: read it while the
  # leader is frozen (SIGSTOP: it claims nothing more, and keeps the lock
  # so nobody requeues anything yet), then kill it.
  kill -STOP "${PID[$L]}"
  note_inflight
  t0=$(date +%s%N)
  kill -KILL "${PID[$L]}"
  wait "${PID[$L]}" 2>/dev/null || true
  for _ in $(seq 1 $((takeover * 20))); do [ "$(epoch)" -gt "$before" ] && break; sleep 0.05; done
  t1=$(date +%s%N)
  took=$(((t1 - t0) / 1000000)) # to within a poll of ha_leader (~50 ms + a psql)
  takeovers+=("$took")
  tap_comment "SIGKILL $k of $L at $n of $keys event keys: $(other "$L") leads (epoch $(epoch)) after $took ms"
  start "$L" # back as the standby
done
tap_ok "every kill was taken over within ha.takeover (${takeover} s): $(IFS=,; echo "${takeovers[*]}") ms" \
  python3 -c "import sys; sys.exit(0 if all(int(t) < $takeover * 1000 for t in sys.argv[1:]) else 1)" "${takeovers[@]}"
python3 -c '
import statistics, sys
t = sorted(int(x) for x in sys.argv[1:])
print("# takeover after SIGKILL: p50 %d ms, max %d ms over %d kills" % (statistics.median(t), t[-1], len(t)))' \
  "${takeovers[@]}"

# ---- the lock connection terminated under the leader
wait_for "truth [ -n \"\$(leader_name)\" ]" 1 20 || true
L=$(leader_name)
before=$(epoch)
# frozen while its lock connection is terminated (waited for: the lock is
# released from then on) and its in-flight deliveries are read; then it
# runs on and must notice (timed from SIGCONT). Read after the release,
# the in-flight set is complete: a claim the server was still running is
# either in it or refused by the fence (the lock is gone).
kill -STOP "${PID[$L]}"
before_lines=$(wc -l <"$work/$L.log")
psql_ cppo "SELECT pg_terminate_backend(pid, 10000) FROM pg_locks WHERE $lock_where" >/dev/null
note_inflight
t0=$(date +%s%N)
kill -CONT "${PID[$L]}"
rc=0
for _ in $(seq 1 $((takeover * 10))); do kill -0 "${PID[$L]}" 2>/dev/null || break; sleep 0.1; done
stopped_ms=$((($(date +%s%N) - t0) / 1000000))
if kill -0 "${PID[$L]}" 2>/dev/null; then rc=running; else wait "${PID[$L]}" || rc=$?; fi
tap_ok "the leader whose lock connection was terminated stopped within ha.takeover ($stopped_ms ms, exit $rc)" \
  [ "$rc" = 75 ]
tap_ok "... and said so: one 'role change role=deposed' line" \
  [ "$(grep -c 'role change role=deposed' "$work/$L.log" || true)" = 1 ]
# After the loss only what was already in flight may still complete: every
# "delivery sent" line from the moment it ran on is one of those, and
# nothing is routed.
sent_after() { sed -n "$((before_lines + 1)),\$p" "$work/$L.log" | sed -n 's/.*delivery sent key=\([^ ]*\) .*/\1/p'; }
only_in_flight() {
  [ "$(sed -n "$((before_lines + 1)),\$p" "$work/$L.log" | grep -c 'routed deliveries' || true)" = 0 ] &&
    [ -z "$(sent_after | grep -vxF -f "$inflight_keys" || true)" ]
}
tap_ok "... and claimed, routed or sent nothing new after it ($(sent_after | wc -l) sends in flight completed)" \
  only_in_flight
wait_for "truth [ \"\$(epoch)\" -gt $before ]" 1 "$takeover" || true
tap_comment "the other instance leads (epoch $(epoch))"
start "$L"

# ---- the end: everything consumed and delivered
wait_for "ledger ha" "$keys" 90 || true
wait_for "truth all_delivered" 1 90 || true
for i in x y; do kill -TERM "${PID[$i]}" 2>/dev/null || true; done
for i in x y; do wait "${PID[$i]}" 2>/dev/null || true; done

if ! wait_for "ledger ref" "$keys" 30; then
  tail -5 "$work/ref.log" | tap_comment
  tap_bail "the reference run did not finish"
fi
ref_done() { [ "$(deliveries_json ref | grep -c '"status":"sent"' || true)" = "$(deliveries_json ref | wc -l)" ]; }
wait_for "truth ref_done" 1 30 || true
kill -TERM "$REF_PID"
wait "$REF_PID" || tap_bail "the reference daemon did not exit 0"
tap_comment "run R: $(ledger ref) event keys, $(deliveries_json ref | wc -l) journal deliveries; run H ${SECONDS} s in all"

# ---- compare with R, and count arrivals
tap_on_failure() { tap_comment "seed $seed"; }
deliveries_json ha >"$work/h-deliveries.jsonl"
deliveries_json ref >"$work/r-deliveries.jsonl"
tap_ok "H's notifications equal R's: the same keys and kinds, the same file receiver lines (whole context)" \
  python3 - "$work/r-deliveries.jsonl" "$work/h-deliveries.jsonl" "$work/ref-journal.jsonl" \
  "$work/x-journal.jsonl" "$work/summary.json" <<'PY'
import json, sys

def listing(path, receiver=None):
    out = {}
    for line in open(path, encoding="utf-8"):
        d = json.loads(line)
        if receiver is None or d["receiver"] == receiver:
            out[d["notification_key"]] = d["kind"]
    return out

def journal(path):
    out = {}
    for line in open(path, encoding="utf-8"):
        n = json.loads(line)
        out.setdefault(n["key"], n)  # a duplicate line is the same notification
    return out

r, h = listing(sys.argv[1]), listing(sys.argv[2], "journal")
jr, jh = journal(sys.argv[3]), journal(sys.argv[4])
required = set(json.load(open(sys.argv[5]))["required_notification_keys"])
bad = []
if r != h:
    bad.append("deliveries listing: %d keys in R only, %d in H only" % (len(set(r) - set(h)), len(set(h) - set(r))))
diff = [k for k in set(jr) | set(jh) if jr.get(k) != jh.get(k)]
if diff:
    bad.append("file receiver: %d notifications differ, e.g. %s" % (len(diff), sorted(diff)[:3]))
if required - set(jh):
    bad.append("H lacks %d required notifications" % len(required - set(jh)))
print("# notifications: R %d, H %d (required %d)" % (len(jr), len(jh), len(required)))
for b in bad:
    print("# FAIL: " + b)
sys.exit(1 if bad else 0)
PY

: >"$work/stray.txt"
python3 - "$work/h-deliveries.jsonl" "$work/mail" "$work/hooks.jsonl" "$work/x-journal.jsonl" \
  "$inflight_keys" "$work/stray.txt" >"$work/figures" <<'PY' || true
import collections, json, os, re, sys

want = collections.defaultdict(set)  # receiver -> notification keys
for line in open(sys.argv[1], encoding="utf-8"):
    d = json.loads(line)
    want[d["receiver"]].add(d["notification_key"])
inflight = collections.defaultdict(set)
for key in open(sys.argv[5]).read().split():
    note, _, receiver = key.rpartition("/")
    inflight[receiver].add(note)
got = {r: collections.Counter() for r in ("mail", "hooks", "journal")}
for name in os.listdir(sys.argv[2]):
    raw = open(os.path.join(sys.argv[2], name), "rb").read()
    k = re.search(rb"^X-CPPO-Notification-Key: (.*)$", raw, re.M)
    b = re.search(rb'boundary="([^"]+)"', raw)
    if k and b and b"--" + b.group(1) + b"--" in raw:
        got["mail"][k.group(1).decode().strip()] += 1
for line in open(sys.argv[3], encoding="utf-8"):
    m = re.search(r"cppo-notify, ([a-z_]+/[^,\"]+)", json.loads(line)["body"])
    if m:
        got["hooks"][m.group(1)] += 1
for line in open(sys.argv[4], encoding="utf-8"):
    got["journal"][json.loads(line)["key"]] += 1
for r, c in got.items():
    dups = {k for k, n in c.items() if n > 1}
    # receiver expected missing duplicates duplicates-not-in-flight in-flight
    print(r, len(want[r]), len(want[r] - set(c)), sum(c[k] - 1 for k in dups),
          len(dups - inflight[r]), len(inflight[r]))
    with open(sys.argv[6], "a") as stray:
        for k in sorted(dups - inflight[r]):
            stray.write("%s/%s\n" % (k, r))
PY
ok_all=1
ok_dups=1
while read -r rcv expected missing dups stray inflight; do
  tap_comment "$rcv: $expected deliveries, $missing missing, $dups duplicates ($inflight in flight at the kills, $stray duplicates not in flight)"
  [ "$expected" -gt 0 ] && [ "$missing" = 0 ] || ok_all=0
  [ "$stray" = 0 ] || ok_dups=0
done <"$work/figures"
arrived() { [ "$ok_all" = 1 ] && [ "$(wc -l <"$work/figures")" = 3 ]; }
tap_ok "every delivery arrived at least once at the SMTP sink, the webhook sink and the file" arrived
tap_on_failure() { # what became of each duplicate not in flight
  local key
  tap_comment "seed $seed"
  while read -r key; do
    tap_comment "duplicate not in flight: $key"
    "$ctl" deliveries show "$key" --state "$(url_of ha)" --json 2>&1 | tap_comment
    grep -hF "${key%/*}" "$work/x.log" "$work/y.log" 2>/dev/null | tail -20 | tap_comment
  done <"$work/stray.txt"
}
tap_ok "duplicates only among deliveries in flight at a kill" [ "$ok_dups" = 1 ]
tap_on_failure() { tap_comment "seed $seed"; }
tap_ok "every delivery is sent (cppo-notifyctl deliveries --json)" \
  [ "$(grep -vc '"status":"sent"' "$work/h-deliveries.jsonl" || true)" = 0 ]
tap_done
