#!/usr/bin/env bash
# Benchmark: cppo-notifyd end to end against the local peers (mock Kafka,
# smtp-sink, the webhook sink, a file receiver). Prints figures, asserts
# nothing about speed (it fails only when deliveries do not arrive at all).
#   1. throughput: DEALS deals (a registration, an Offer Released and an
#      Agreement Created each: 2 notifications, each to mail, hooks and
#      journal) are produced at once; deliveries/s per receiver, from the
#      first arrival to the last (and from the produce), times as the sinks
#      saw them (mail file mtime, the webhook sink's arrival time; the
#      journal's from the store, as the file has none). The webhook
#      receiver's `rate` is set far above what it reaches (unpaced).
#   2. latency: PACED deals, produced at RATE deals/s through one
#      bench-produce (each line sent as read; kcat holds stdin lines until
#      a block fills); for each mail, the time from handing its triggering
#      event (Offer Released, Agreement Created) to the producer to the
#      mail file's mtime; p50/p90/p99/max. With the shipped defaults, then
#      with fetch.wait.max.ms 500 (librdkafka's default, shipped before: the
#      mock cluster holds an empty fetch that long even when a message
#      arrives meanwhile), then with the shipped defaults traced (4.).
#   3. idle cost of each setting: CPU of the daemon and the broker,
#      requests/s to the broker.
#   4. the traced run's breakdown per stage, from the daemon's debug log.
#   5. 1 and 2 (shipped defaults) again with the store on PostgreSQL (a
#      server of its own, test/tools/pg-server.py, fsync off as for every
#      test server; SQLite above runs synchronous=normal): the store's share
#      of throughput and latency. 3 and 4 measure Kafka settings and are
#      not repeated.
# Usage: bench-e2e.sh CPPO_NOTIFYD BENCH_PRODUCE [DEALS [PACED [RATE]]]
#        (needs MOCK_KAFKA, CPPO_SOURCE_ROOT)
set -euo pipefail
source "$CPPO_SOURCE_ROOT/test/tools/peers.sh"
daemon=$(realpath "$1")
producer=$(realpath "$2")
n_deals=${3:-500}
n_paced=${4:-200}
rate=${5:-20}
deals="$CPPO_SOURCE_ROOT/test/integration/deals.py"
work=$PEER_TMP
chmod 0755 "$work" # smtp-sink runs as nobody and writes below here
log=$work/daemon.log
fail() { echo "bench-e2e: $*" >&2; tail -20 "$log" >&2; exit 1; }

peer_start_mock_kafka --brokers 1 --topic bench:3 --topic bench-old:3 --topic bench-trace:3 \
  --topic bench-pg:3
peer_start_smtp_sink "$work/mail" 2>>"$work/peers.log"
peer_start_webhook_sink "$work/hooks.jsonl" 2>>"$work/peers.log"
printf 'http://127.0.0.1:%s/services/T0BENCH/B0BENCH/not-a-real-secret\n' "$WEBHOOK_PORT" >"$work/hook-url"
chmod 0600 "$work/hook-url"
mkdir -p "$work/rules.d"
write_config() { # topic [extra kafka property lines]
  cat >"$work/cppo-notify.yaml" <<YAML
kafka:
  brokers: $KAFKA_BROKERS
  topics: [$1]
  group: bench-$1
  properties:
    session.timeout.ms: "6000"
    heartbeat.interval.ms: "500"
${2:-}
$(store_yaml "$db")
$([[ "$db" == postgresql://* ]] || echo "  synchronous: normal")
smtp:
  url: smtp://127.0.0.1:$SMTP_PORT
  from: cppo@bench.test
  starttls: never
receivers:
  mail:
    type: email
    to: [revops@bench.test]
  hooks:
    type: slack
    webhook_url_file: $work/hook-url
    rate: 10000
  journal:
    type: file
    path: $work/journal-$1.jsonl
http:
  listen: 127.0.0.1:0
rules_dir: rules.d
YAML
}
cat >"$work/rules.d/10-all.yaml" <<'YAML'
rules:
  - name: all-three
    match:
      kind: [new_order, partner_offer_extended]
    receivers: [mail, hooks, journal]
YAML

# Every line the daemon logs, prefixed with the wall-clock time it was read
# (the daemon's own lines carry no time).
stamp() { # file
  python3 -u -c '
import sys, time
out = open(sys.argv[1], "a")
for line in iter(sys.stdin.readline, ""):
    out.write("%.6f %s" % (time.time(), line))
    out.flush()
' "$1"
}
start_daemon() { # topic log-level [extra kafka property lines]
  write_config "$1" "${3:-}"
  : >"$log"
  "$daemon" --config "$work/cppo-notify.yaml" --log-level "$2" 2> >(stamp "$log") &
  DAEMON_PID=$!
  peer_track $DAEMON_PID
  wait_for listening 1 20 || fail "the daemon did not start"
  port=$(sed -n 's/.*http listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | head -1)
  wait_for ready 1 30 || fail "the daemon did not start consuming"
}
listening() { grep -c 'http listening on' "$log" || true; }
ready() { curl -fs -o /dev/null "http://127.0.0.1:$port/readyz" && echo 1 || echo 0; }
sent() { store_sql "$db" 'SELECT COUNT(*) FROM deliveries WHERE status = 2' 2>/dev/null || echo 0; }
CPPO_TEST_STORE=pg test_store_init || fail "PostgreSQL did not start"
db=$work/state.db
start_daemon bench notice
echo "cppo-notifyd end to end, $(nproc) CPUs; receivers: mail (smtp-sink), hooks (webhook sink," \
  "rate 10000/s), journal (file)"

# ---- 1. throughput
throughput() { # topic label
  python3 "$deals" --first 0 --count "$n_deals" >"$work/bulk.tsv"
  want=$((n_deals * 2 * 3))
  rm -f "$work"/mail/*
  t0=$(date +%s.%N)
  kcat -P -b "$KAFKA_BROKERS" -t "$1" -K$'\t' -l "$work/bulk.tsv"
  wait_for sent "$want" 120 || fail "only $(sent) of $want deliveries sent"
  python3 - "$t0" "$work" "$n_deals" "$db" "$2" <<'PY'
import json, os, sys

sys.path.insert(0, os.path.join(os.environ["CPPO_SOURCE_ROOT"], "test", "tools"))
from teststore import Stores  # noqa: E402

t0, work, deals = float(sys.argv[1]), sys.argv[2], int(sys.argv[3])
times = {
    "mail": [os.stat(os.path.join(work, "mail", f)).st_mtime_ns / 1e9
             for f in os.listdir(os.path.join(work, "mail"))],
    # the sink's record holds every run's posts: this run's came after t0
    "hooks": [t for t in (json.loads(l)["time"] for l in open(os.path.join(work, "hooks.jsonl")))
              if t >= t0],
    "journal": [ms / 1000 for (ms,) in Stores.sql(sys.argv[4],
        "SELECT updated_at_ms FROM deliveries WHERE receiver = 'journal' AND status = 2")],
}
print("1. throughput, %s: %d deals (%d events) produced at once, %d notifications, %d deliveries"
      % (sys.argv[5], deals, 3 * deals, 2 * deals, sum(len(v) for v in times.values())))
for r, v in times.items():
    first, last = min(v), max(v)
    print("   %-8s %5d deliveries  %7.1f/s first to last (%.2f s)  %7.1f/s from the produce "
          "(last after %.2f s)" % (r, len(v), (len(v) - 1) / max(last - first, 1e-6),
                                  last - first, len(v) / (last - t0), last - t0))
allt = [t for v in times.values() for t in v]
print("   all      %5d deliveries  %7.1f/s from the produce" % (len(allt), len(allt) / (max(allt) - t0)))
PY
}
throughput bench "SQLite (synchronous=normal)"

# ---- 2. latency, event produced to Kafka -> e-mail file on disk
latency() { # topic first-deal label
  local before
  python3 "$deals" --first "$2" --count "$n_paced" >"$work/paced.tsv"
  rm -f "$work"/mail/*
  before=$(sent)
  rm -f "$work/producer-ready"
  python3 - "$work/paced.tsv" "$rate" "$work/produced.tsv" "$work/producer-ready" <<'PY' |
import json, os, sys, time

src, rate, out = sys.argv[1], float(sys.argv[2]), open(sys.argv[3], "w")
lines = open(src, encoding="utf-8").read().splitlines()
for _ in range(300):  # until the producer is connected: its start-up is not latency
    if os.path.exists(sys.argv[4]):
        break
    time.sleep(0.1)
start = time.time()
for i in range(0, len(lines), 3):  # one deal: registration, Offer Released, Agreement Created
    delay = start + i / 3 / rate - time.time()
    if delay > 0:
        time.sleep(delay)
    for line in lines[i:i + 3]:
        e = json.loads(line.split("\t", 1)[1])
        d, t = e["detail"], time.time()
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
        if e["detail-type"] == "Offer Released":
            out.write("partner_offer_extended/%s\t%.6f\n" % (d["offer"]["id"], t))
        elif e["detail-type"].startswith("Purchase Agreement Created"):
            out.write("new_order/%s\t%.6f\n" % (d["agreement"]["id"], t))
out.close()
PY
    "$producer" "$KAFKA_BROKERS" "$1" "$work/producer-ready" || fail "bench-produce failed"
  wait_for sent $((before + n_paced * 2 * 3)) 120 || fail "only $(($(sent) - before)) paced deliveries sent"
  python3 - "$work/produced.tsv" "$work/mail" "$n_paced" "$rate" "$3" "$db" <<'PY'
import math, os, re, sys

sys.path.insert(0, os.path.join(os.environ["CPPO_SOURCE_ROOT"], "test", "tools"))
from teststore import Stores  # noqa: E402

produced = dict((k, float(t)) for k, t in (l.split("\t") for l in open(sys.argv[1])))
# when the daemon created each mail delivery (routed, in its store)
routed = dict((k, ms / 1000.0) for k, ms in Stores.sql(
    sys.argv[6], "SELECT notification_key, created_at_ms FROM deliveries WHERE receiver = 'mail'"))
lat, ingest, dispatch = [], [], []
for f in os.listdir(sys.argv[2]):
    path = os.path.join(sys.argv[2], f)
    m = re.search(rb"^X-CPPO-Notification-Key: (.*)$", open(path, "rb").read(), re.M)
    key = m.group(1).decode() if m else None
    if key in produced:
        on_disk = os.stat(path).st_mtime_ns / 1e9
        lat.append(on_disk - produced[key])
        ingest.append(routed[key] - produced[key])
        dispatch.append(on_disk - routed[key])


def pct(v, p):
    v = sorted(v)
    return v[max(0, math.ceil(p / 100 * len(v)) - 1)] * 1000


print("2. latency, %s: %s deals at %s deals/s, %d mails:" % (sys.argv[5], sys.argv[3],
                                                          sys.argv[4], len(lat)))
for name, v in (("produced to Kafka -> mail file on disk", lat),
                ("  of which produced -> delivery routed", ingest),
                ("  and delivery routed -> mail on disk", dispatch)):
    print("   %-40s p50 %4.0f ms  p90 %4.0f ms  p99 %4.0f ms  max %4.0f ms  min %4.0f ms"
          % (name, pct(v, 50), pct(v, 90), pct(v, 99), pct(v, 100), pct(v, 0)))
PY
}
stop_daemon() {
  kill -TERM "$DAEMON_PID"
  wait "$DAEMON_PID" || fail "the daemon exited $? on SIGTERM"
}
# ---- 3. what the consumer costs while no event arrives: CPU of the daemon
# and of the (mock) broker, and requests/s from the daemon to the broker
# (TCP segments carrying data, from ss: one per request here)
idle_sample() {
  python3 - "$DAEMON_PID" "$KAFKA_PID" "${KAFKA_BROKERS##*:}" <<'PY'
import re, subprocess, sys
daemon, broker, port = sys.argv[1:]
ticks = lambda pid: sum(int(x) for x in open("/proc/%s/stat" % pid).read().rsplit(")", 1)[1].split()[11:13])
ss = subprocess.run(["ss", "-tinpH", "dst", "127.0.0.1:" + port], capture_output=True, text=True).stdout
segs = 0
for sock in re.split(r"\n(?=\S)", ss):
    if "pid=%s," % daemon in sock:
        m = re.search(r"data_segs_out:(\d+)", sock)
        segs += int(m.group(1)) if m else 0
print(ticks(daemon), ticks(broker), segs)
PY
}
idle_cost() { # label
  local a b
  sleep 2
  a=$(idle_sample); sleep 10; b=$(idle_sample)
  python3 - "$1" "$(getconf CLK_TCK)" $a $b <<'PY'
import sys
label, hz = sys.argv[1], int(sys.argv[2])
a, b = [int(x) for x in sys.argv[3:6]], [int(x) for x in sys.argv[6:9]]
print("3. idle, %s, over 10 s: daemon CPU %.1f ms/s, broker CPU %.1f ms/s, %.1f requests/s to "
      "the broker" % (label, (b[0] - a[0]) * 1000 / hz / 10, (b[1] - a[1]) * 1000 / hz / 10,
                      (b[2] - a[2]) / 10))
PY
}
# ---- 4. where the time goes, from the traced run's log (the daemon at log
# level debug with librdkafka's debug=fetch; every line stamped as read):
# for each mail, its event handed to the producer -> the fetch response carrying it
# queued in librdkafka (the first "Enqueue" line since the previous batch:
# producer, broker, fetch wait) -> "kafka batch" (the daemon's poll
# returned) -> its "notification" line (decoded, correlated, committed) ->
# the next "routed" line (offsets stored, rendered, deliveries inserted)
# -> "delivery sent" (dispatcher woken, claimed, SMTP).
breakdown() {
  python3 - "$work/produced.tsv" "$log" <<'PY'
import math, re, sys

produced = dict((k, float(t)) for k, t in (l.split("\t") for l in open(sys.argv[1])))
at = {}  # key -> [fetched, polled, committed, routed, sent]
fetched = polled = None
waiting = []  # committed, not yet routed
for line in open(sys.argv[2], errors="replace"):
    t, _, text = line.partition(" ")
    t = float(t)
    if "facility=CONSUME" in text and "Enqueue " in text:
        fetched = t if fetched is None else fetched
    elif "kafka batch messages=" in text:
        polled, fetched_batch, fetched = t, fetched, None
    elif (m := re.search(r"notification kind=\S+ key=(\S+)", text)) and m.group(1) in produced:
        at[m.group(1)] = [fetched_batch, polled, t, None, None]
        waiting.append(m.group(1))
    elif "routed deliveries=" in text:
        for k in waiting:
            at[k][3] = t
        waiting = []
    elif (m := re.search(r"delivery sent key=(\S+)/mail ", text)) and m.group(1) in at:
        at[m.group(1)][4] = t
rows = [[produced[k]] + v for k, v in at.items() if None not in v]


def pct(v, p):
    v = sorted(v)
    return v[max(0, math.ceil(p / 100 * len(v)) - 1)] * 1000


print("4. where the time goes (traced run, %d mails; stages do not add up percentile-wise):"
      % len(rows))
names = ("produced -> fetched (producer, broker, fetch wait)", "fetched -> polled by the daemon",
         "polled -> committed (decode, correlate, store)", "committed -> routed (offsets, render)",
         "routed -> mail sent (dispatch, SMTP)")
for i, name in enumerate(names):
    v = [r[i + 1] - r[i] for r in rows]
    print("   %-52s p50 %5.1f ms  p99 %5.1f ms  max %5.1f ms" % (name, pct(v, 50), pct(v, 99),
                                                                 pct(v, 100)))
v = [r[5] - r[0] for r in rows]
print("   %-52s p50 %5.1f ms  p99 %5.1f ms  max %5.1f ms" % ("produced -> mail sent (total)",
                                                             pct(v, 50), pct(v, 99), pct(v, 100)))
PY
}
idle_cost "shipped defaults"
latency bench 100000 "SQLite, shipped defaults"
stop_daemon
start_daemon bench-old notice '    fetch.wait.max.ms: "500"'
idle_cost "fetch.wait.max.ms 500 (librdkafka's default, shipped before)"
latency bench-old 200000 "fetch.wait.max.ms 500 (librdkafka's default, shipped before)"
stop_daemon
start_daemon bench-trace debug '    debug: fetch'
latency bench-trace 300000 "shipped defaults, traced"
stop_daemon
breakdown

# ---- 5. the same daemon on a PostgreSQL store
db=$(CPPO_TEST_STORE=pg test_store "$work/bench-pg.db") || fail "no database"
start_daemon bench-pg notice
throughput bench-pg "PostgreSQL"
latency bench-pg 100000 "PostgreSQL, shipped defaults"
stop_daemon
echo "(file mtimes come from the kernel's coarse clock, delivery times from the store in ms:" \
  "a few ms of granularity)"
