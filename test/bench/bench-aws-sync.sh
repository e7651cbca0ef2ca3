#!/usr/bin/env bash
# The AWS Catalog sync of 1,000 authorizations against the stand-in at the
# documented quotas (ListEntities 10/s, DescribeEntity 20/s), through the
# real daemon: the first sync's time and API calls, the daemon's event
# throughput while it runs versus idle, then a steady-state pass (nothing
# changed) and one after 10 changes, with `aws sync --dry-run`. Figures
# only, no assertion about speed.
# Usage: bench-aws-sync.sh CPPO_NOTIFYD CPPO_NOTIFYCTL  (needs MOCK_KAFKA, CPPO_SOURCE_ROOT)
set -uo pipefail
if ! /usr/bin/python3 -c 'import botocore' 2>/dev/null; then
  echo "bench-aws-sync: python3-botocore missing, skipped"
  exit 0
fi
source "$CPPO_SOURCE_ROOT/test/tools/peers.sh"
daemon=$(realpath "$1")
ctl=$(realpath "$2")
work=$PEER_TMP
AUTHS=${CPPO_BENCH_AUTHS:-1000} DEALS=${CPPO_BENCH_DEALS:-1500}
now_ms() { date +%s%3N; }

mkfifo "$work/standin.fifo"
/usr/bin/python3 "$CPPO_SOURCE_ROOT/test/tools/catalog-standin.py" --generate "$AUTHS" \
  >"$work/standin.fifo" 2>"$work/standin.err" &
peer_track $!
line=$(peer_ready_line "$work/standin.fifo" 20) || exit 1
url="http://127.0.0.1:${line#ready }"
stats() { curl -sf "$url/_standin/stats"; }
peer_start_mock_kafka --brokers 1 --topic mp-events:1

export HOME="$work" AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export AWS_EC2_METADATA_DISABLED=true AWS_ACCESS_KEY_ID=AKIDSTANDIN
export AWS_SECRET_ACCESS_KEY=standin-secret-key
mkdir -p "$work/rules.d"
printf 'rules:\n  - name: all\n    match: { kind: [{ exists: true }] }\n    receivers: [audit]\n' \
  >"$work/rules.d/all.yaml"
{
  daemon_test_config bench "$work/state.db" "$work/n.jsonl"
  printf 'rules_dir: %s\naws:\n  endpoint: %s\n  sync_interval: 1h\n' "$work/rules.d" "$url"
} >"$work/c.yaml"

deals() { # first count: a registration and a partner offer each (one delivery)
  python3 - "$1" "$2" <<'PY'
import json, sys
first, count = int(sys.argv[1]), int(sys.argv[2])
for i in range(first, first + count):
    print(json.dumps({"version": "0", "id": "reg-%d" % i, "detail-type": "Resale Authorization Registered",
        "source": "cppo-notify", "account": "111122223333", "time": "2025-03-06T10:00:00Z",
        "detail": {"resaleAuthorizationId": "ra-x%d" % i, "productId": "prod-x",
                   "resellerAccountId": "999900001111", "buyerAccountIds": ["6%011d" % i]}}))
    print(json.dumps({"version": "0", "id": "or-%d" % i, "detail-type": "Offer Released",
        "source": "aws.marketplacecatalog", "account": "111122223333", "time": "2025-03-06T10:00:01Z",
        "detail": {"offer": {"id": "offer-x%d" % i}, "product": {"id": "prod-x"},
                   "manufacturer": {"accountId": "111122223333"},
                   "sellerOfRecord": {"accountId": "999900001111"},
                   "targetedBuyerAccountIds": ["6%011d" % i]}}))
PY
}
delivered() { grep -c '"key": *"partner_offer_extended/offer-x' "$work/n.jsonl" 2>/dev/null; }
measure() { # label first count
  local t0 t
  t0=$(now_ms)
  deals "$2" "$3" | kcat -P -b "$KAFKA_BROKERS" -t mp-events
  wait_for delivered $(($2 + $3 - 1)) 300
  t=$(($(now_ms) - t0))
  echo "$1: $((2 * $3)) events, $3 deliveries in $t ms: $((2 * $3 * 1000 / (t + 1))) events/s"
}

t0=$(now_ms)
"$daemon" --config "$work/c.yaml" --log-level info 2>>"$work/daemon.log" &
peer_track $!
# measured once consuming (the mock's group join takes seconds), while the
# first sync (about 50 s at the quotas) is still under way
wait_for "grep -c 'consuming partitions' '$work/daemon.log'" 1 60
measure "while the first sync runs" 1 "$DEALS"
grep -q "aws sync done" "$work/daemon.log" && echo "(the sync had already finished: raise CPPO_BENCH_DEALS)"
wait_for "grep -c 'aws sync done' '$work/daemon.log'" 1 600
t_sync=$(($(now_ms) - t0))
echo "first sync of $AUTHS authorizations: $(grep -o 'aws sync done.*' "$work/daemon.log" | head -1) (daemon start to done: $t_sync ms)"
echo "API calls: $(stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["calls"])')"
wait_for "sqlite3 '$work/state.db' 'SELECT COUNT(*) FROM authorizations WHERE aws_status IS NOT NULL'" "$AUTHS" 60
measure "idle (no sync running)" $((DEALS + 1)) "$DEALS"

curl -sf -d '{"reset": true}' "$url/_standin/control" >/dev/null
t0=$(now_ms)
"$ctl" aws sync --dry-run --config "$work/c.yaml" | tail -2
echo "steady state (nothing changed): $(($(now_ms) - t0)) ms, calls $(stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["calls"])')"
for i in $(seq 0 9); do
  curl -sf -d "{\"update\": {\"id\": \"resaleauthz-gen00000$i\", \"details\": {\"Name\": \"changed $i\"}}}" \
    "$url/_standin/control" >/dev/null
done
curl -sf -d '{"reset": true}' "$url/_standin/control" >/dev/null
t0=$(now_ms)
"$ctl" aws sync --dry-run --config "$work/c.yaml" | tail -2
echo "after 10 changes: $(($(now_ms) - t0)) ms, calls $(stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["calls"])')"
