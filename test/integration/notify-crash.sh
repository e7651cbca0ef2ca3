#!/usr/bin/env bash
# Issue 4 acceptance: notifications survive SIGKILL exactly once.
#
# ~10,000 events forming ~1,400 CPPO deals (gen-events.py, keyed so that one
# deal stays in one partition, in order; 30 deals' stories interleaved, so
# that each kill cuts through many of them) are produced to the mock Kafka
# cluster. cppo-notifyd consumes them twice, each time in its own consumer
# group into a fresh store:
#   A  uninterrupted (the reference);
#   B  SIGKILLed at 6 random points spread over the stream (each while part
#      of it is not yet durable) and restarted every time.
# In the end B's notifications table must equal A's: the same keys, each
# with the same kind, the same columns and the byte-identical context
# document (only created_at, the wall clock, may differ); and both must hold
# every notification key gen-events.py says a correct consumer emits. The
# correlation records (authorizations, offers, agreements, holds) are
# compared too, without their clock columns: a divergence there is a state
# reload bug even before it shows in a notification.
#
# With CPPO_TEST_STORE=pg (notify-crash-pg) both stores are databases on
# one real PostgreSQL server, compared the same way.
#
# The kill points come from $RANDOM, seeded from NOTIFY_CRASH_SEED or the
# clock, and the seed is printed so a failing run can be repeated.
# Usage: notify-crash.sh CPPO_NOTIFYD   (needs MOCK_KAFKA, CPPO_SOURCE_ROOT)
set -euo pipefail
source "$CPPO_SOURCE_ROOT/test/tools/peers.sh"
source "$CPPO_SOURCE_ROOT/test/tools/tap.sh"
daemon=$(realpath "$1")
work=$PEER_TMP
gen="$CPPO_SOURCE_ROOT/test/integration/gen-events.py"
kills=6

seed=${NOTIFY_CRASH_SEED:-$(($(date +%s) % 32768))}
RANDOM=$seed
tap_comment "seed $seed (NOTIFY_CRASH_SEED=$seed repeats these kill points)"

python3 "$gen" --deals 1430 --seed 23 --keyed --interleave 30 --malformed-pct 0 \
        --summary "$work/summary.json" >"$work/events.jsonl"
read -r messages keys required < <(python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
print(d['messages'], len(d['event_keys']), len(d['required_notification_keys']))" "$work/summary.json")
tap_comment "events: $messages messages, $keys distinct event keys, 1430 deals, $required notification keys required"

peer_start_mock_kafka --brokers 3 --topic mp-events:3
# small message sets: a fetch returns at least one whole set, so big ones
# would make the consumer (and its commits) advance in big leaps
kcat -P -b "$KAFKA_BROKERS" -t mp-events -K$'\t' -X batch.num.messages=25 -l "$work/events.jsonl"

test_store_init || tap_bail "no store"
declare -A store
write_config() { # name group
  store[$1]=$(test_store "$work/$1.db") || tap_bail "no store $1"
  daemon_test_config "$2" "${store[$1]}" "$work/$1-notifications.jsonl" >"$work/$1.yaml"
}
write_config a notify-crash-a
write_config b notify-crash-b

# no command shows the ledger: its row count is the progress made
ledger() { store_sql "${store[$1]}" 'SELECT COUNT(*) FROM ledger' 2>/dev/null || echo 0; }

start_daemon() { # name
  "$daemon" --config "$work/$1.yaml" --log-level warning 2>>"$work/$1.log" &
  DAEMON_PID=$!
  peer_track "$DAEMON_PID"
}

stop_daemon() { # name: SIGTERM, must exit 0 within 30 s
  local status=0
  kill -TERM "$DAEMON_PID"
  for _ in $(seq 1 300); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$DAEMON_PID" 2>/dev/null; then
    tap_comment "$1: still running 30 s after SIGTERM"
    kill -KILL "$DAEMON_PID"
  fi
  wait "$DAEMON_PID" || status=$?
  [ "$status" -eq 0 ] && return 0
  tail "$work/$1.log" | tap_comment
  tap_bail "$1: daemon exited $status after SIGTERM"
}

# A: the reference, uninterrupted.
start_daemon a
wait_for "ledger a" "$keys" 180
stop_daemon a
tap_comment "run A (uninterrupted): $(ledger a) event keys"

# B: slow brokers (every request waits $rtt ms, fetches are small), so that
# the stream takes long enough for each kill to land in it.
rtt=${NOTIFY_CRASH_RTT:-40}
for b in 1 2 3; do [ "$(kafka_control "rtt $b $rtt")" = ok ]; done
started=$SECONDS
points=()
for k in $(seq 1 $kills); do
  # one point in each of the first $kills of $((kills + 1)) equal slices
  points+=($((keys * (k - 1) / (kills + 1) + RANDOM % (keys / (kills + 1)) + 1)))
done
n=0
for k in $(seq 1 $kills); do
  # commits come in batches: a point already passed waits for the next one,
  # so every life of the daemon makes progress before it is killed
  aim=$((points[k - 1] > n ? points[k - 1] : n + 1))
  start_daemon b
  wait_for "ledger b" "$aim" 180
  kill -KILL "$DAEMON_PID"
  wait "$DAEMON_PID" 2>/dev/null || true
  n=$(ledger b)
  tap_comment "SIGKILL $k at $n of $keys event keys (aimed at $aim)"
  [ "$n" -lt "$keys" ] || tap_bail "kill $k came after the whole stream"
done
start_daemon b
wait_for "ledger b" "$keys" 180
stop_daemon b
tap_comment "run B ($kills kills, broker rtt $rtt ms): $(ledger b) event keys in $((SECONDS - started)) s"

# The whole records, compared column by column between the two stores: no
# command shows every column, so this reads the tables themselves.
tap_on_failure() { tap_comment "notification tables differ (seed $seed)"; }
tap_ok "the killed run's notifications equal the uninterrupted run's, exactly once" \
  python3 - "$work/summary.json" "${store[a]}" "${store[b]}" <<'PY'
import json, os, subprocess, sys

sys.path.insert(0, os.path.join(os.environ["CPPO_SOURCE_ROOT"], "test", "tools"))
from teststore import Stores  # noqa: E402

class Store:  # SQLite file or PostgreSQL database, the rows as tuples
    def __init__(self, target):
        self.target = target

    def rows(self, sql):
        return Stores.sql(self.target, sql)

want = json.load(open(sys.argv[1]))
a, b = Store(sys.argv[2]), Store(sys.argv[3])
failed = []

def check(ok, what):
    if not ok:
        failed.append(what)
        print("# FAIL: " + what)

def documents(values):
    # stored contexts (packed, pack.h, or plain) as their JSON texts, one
    # store-unpack run for all: SQLite gives bytes or text, PostgreSQL's
    # bytea comes as "\\x<hex>"
    hexes = [v.hex() if isinstance(v, bytes) else v[2:] if v.startswith("\\x")
             else v.encode().hex() for v in values]
    out = subprocess.run([os.environ["STORE_UNPACK"]], input="\n".join(hexes) + "\n",
                         capture_output=True, text=True, check=True).stdout
    return out.split("\n")[:len(values)]

def document(v):
    return documents([v])[0]

def notifications(db):
    # everything but created_at (the wall clock at commit); the packed
    # context compares as stored (the same document packs the same)
    rows = db.rows("SELECT key, kind, context, source_event_key, opportunity_id, offer_id,"
                   " agreement_id, late, registered FROM notifications")
    return {r[0]: r[1:] for r in rows}

na, nb = notifications(a), notifications(b)
kinds = {}
for key, row in na.items():
    kinds[row[0]] = kinds.get(row[0], 0) + 1
print("# notifications: A %d, B %d; by kind in A: %s" % (len(na), len(nb), json.dumps(kinds, sort_keys=True)))
missing, extra = sorted(set(na) - set(nb)), sorted(set(nb) - set(na))
check(not missing, "%d notifications of A missing from B, e.g. %s" % (len(missing), missing[:3]))
check(not extra, "%d notifications in B only, e.g. %s" % (len(extra), extra[:3]))
def flat(v, path=""):
    # {"a":{"b":1}} -> {"a.b": 1}, so that a difference names its field
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            out.update(flat(x, path + "." + k if path else k))
        return out
    return {path: v}

COLS = ("kind", "context", "source_event_key", "opportunity_id", "offer_id", "agreement_id",
        "late", "registered")
differ = sorted(k for k in set(na) & set(nb) if na[k] != nb[k])
for k in differ[:3]:
    fa, fb = dict(zip(COLS, na[k])), dict(zip(COLS, nb[k]))
    fa.update(flat(json.loads(document(fa.pop("context"))), "context"))
    fb.update(flat(json.loads(document(fb.pop("context"))), "context"))
    for f in sorted(set(fa) | set(fb)):
        if fa.get(f) != fb.get(f):
            print("# %s %s: A %r, B %r" % (k, f, fa.get(f), fb.get(f)))
check(not differ, "%d notifications differ between A and B (kind, context or columns)" % len(differ))
texts = dict(zip(na, documents([row[1] for row in na.values()])))
for key, row in na.items():
    ctx = json.loads(texts[key])
    check(ctx.get("key") == key and ctx.get("kind") == row[0] and key.startswith(row[0] + "/"),
          "context of %s names another key or kind" % key)
    if failed:
        break
for name, db in (("A", na), ("B", nb)):
    lost = sorted(set(want["required_notification_keys"]) - set(db))
    check(not lost, "%s lacks %d required notification keys, e.g. %s" % (name, len(lost), lost[:3]))

# The correlation records, without their clock columns.
TABLES = {
    "authorizations": "id, name, product_id, product_title, reseller_account_id, reseller_name,"
                      " buyer_company_name, buyer_account_ids, expires_at, renewal, notify, metadata,"
                      " offer_ids, registered, withdrawn, source_event_key",
    "offers": "id, name, expiration, product_id, product_title, manufacturer_account_id,"
              " manufacturer_name, seller_of_record_account_id, seller_of_record_name,"
              " targeted_buyer_account_ids, authorization_id, link, link_event_key, released_seen, late",
    "agreements": "id, intent, status, acceptance_time, start_time, end_time, offer_id,"
                  " authorization_id, acceptor_account_id, proposer_account_id,"
                  " previous_agreement_id, product_id, last_event_time",
    "holds": "offer_id, event_key, attention_sent",
}
for table, cols in TABLES.items():
    ra = {r[0]: r for r in a.rows("SELECT %s FROM %s" % (cols, table))}
    rb = {r[0]: r for r in b.rows("SELECT %s FROM %s" % (cols, table))}
    diff = sorted(k for k in set(ra) | set(rb) if ra.get(k) != rb.get(k))
    names = cols.replace(" ", "").split(",")
    for k in diff[:2]:
        for f, x, y in zip(names, ra.get(k) or [None] * len(names), rb.get(k) or [None] * len(names)):
            if x != y:
                print("# %s %s %s: A %r, B %r" % (table, k, f, x, y))
    check(not diff, "%s: %d of %d records differ between A and B" % (table, len(diff), len(ra)))
print("# %s: %d rows in A, %d in B" % (", ".join(TABLES), sum(a.rows("SELECT COUNT(*) FROM " + t)[0][0] for t in TABLES),
                                       sum(b.rows("SELECT COUNT(*) FROM " + t)[0][0] for t in TABLES)))
sys.exit(1 if failed else 0)
PY
tap_on_failure() { :; }
both_stores_ok() { store_backend_ok "${store[a]}" && store_backend_ok "${store[b]}"; }
tap_ok "both stores are the ones CPPO_TEST_STORE asks for" both_stores_ok
tap_done
