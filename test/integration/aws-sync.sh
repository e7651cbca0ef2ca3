#!/usr/bin/env bash
# The AWS Catalog sync through the real daemon (issue 13): mock Kafka, the
# SigV4-verifying catalog stand-in, the file receiver, no registration at
# all. An authorization that exists only in the stand-in is synced; an
# Offer Released for it yields Partner Offer Extended at once, named after
# it, linked inferred; a held offer AWS's record names is linked aws; one
# AWS hides is remembered as not visible (not looked up per event); a
# Change Set Succeeded that restricts the authorization takes effect before
# the next event; 30 s of 429s delay the sync while Kafka consumption and
# deliveries go on (measured: TAP comments, no timed assertion); a bad
# secret key is a clear log line and `aws check` names the fix; the
# metrics; `aws sync --dry-run` against the same catalog. TAP.
# Usage: aws-sync.sh CPPO_NOTIFYD CPPO_NOTIFYCTL  (needs MOCK_KAFKA, CPPO_SOURCE_ROOT)
set -uo pipefail
source "$CPPO_SOURCE_ROOT/test/tools/tap.sh"
if ! /usr/bin/python3 -c 'import botocore' 2>/dev/null; then
  tap_skip_all "python3-botocore missing (scripts/install-deps installs it)"
fi
source "$CPPO_SOURCE_ROOT/test/tools/peers.sh"
daemon=$(realpath "$1")
ctl=$(realpath "$2")
work=$PEER_TMP
# Facts no command shows (the registered flag, a notification's context,
# the change set refresh queue) come from the store's tables.
q() { sqlite3 "$work/state.db" "$1"; }
auth_field() { # id field -> the field of authorization show --json
  "$ctl" authorization show "$1" --state "$work/state.db" --json |
    python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$2"
}
now_ms() { date +%s%3N; }

ISV=111122223333 PARTNER=777788889999 BUYER=444455557777
RA=resaleauthz-northwind-12m

# ---- peers: the catalog stand-in, mock Kafka ----
mkfifo "$work/standin.fifo"
/usr/bin/python3 "$CPPO_SOURCE_ROOT/test/tools/catalog-standin.py" \
  --fixture "$CPPO_SOURCE_ROOT/test/fixtures/aws-catalog/catalog.json" \
  >"$work/standin.fifo" 2>"$work/standin.err" &
peer_track $!
line=$(peer_ready_line "$work/standin.fifo" 20) || { echo "Bail out! stand-in did not start"; exit 1; }
url="http://127.0.0.1:${line#ready }"
control() { curl -sf -d "$1" "$url/_standin/control" >/dev/null; }
calls() { curl -sf "$url/_standin/stats" | python3 -c "import json,sys; print(json.load(sys.stdin)['calls'].get('$1', 0))"; }

peer_start_mock_kafka --brokers 1 --topic mp-events:1
publish() { kcat -P -b "$KAFKA_BROKERS" -t mp-events; }

export HOME="$work" AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export AWS_EC2_METADATA_DISABLED=true AWS_ACCESS_KEY_ID=AKIDSTANDIN
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_CONTAINER_CREDENTIALS_RELATIVE_URI \
  AWS_CONTAINER_CREDENTIALS_FULL_URI
mkdir -p "$work/rules.d"
printf 'rules:\n  - name: everything\n    match: { kind: [{ exists: true }] }\n    receivers: [audit]\n' \
  >"$work/rules.d/all.yaml"
config() { # group db jsonl
  daemon_test_config "$1" "$2" "$3"
  printf 'rules_dir: %s\naws:\n  endpoint: %s\n  sync_interval: 10m\n' "$work/rules.d" "$url"
}
config aws-sync "$work/state.db" "$work/notifications.jsonl" >"$work/cppo-notify.yaml"
cfg=(--config "$work/cppo-notify.yaml")

AWS_SECRET_ACCESS_KEY=standin-secret-key "$daemon" "${cfg[@]}" --log-level info \
  2>>"$work/daemon.log" &
DAEMON_PID=$!
peer_track "$DAEMON_PID"

offer_released() { # offer targeted-buyer
  printf '{"version":"0","id":"or-%s","detail-type":"Offer Released","source":"aws.marketplacecatalog","account":"%s","time":"2025-03-04T09:15:27Z","detail":{"offer":{"id":"%s","name":"CPPO %s"},"product":{"id":"prod-analytics01","title":"Analytics Suite"},"manufacturer":{"accountId":"%s"},"sellerOfRecord":{"accountId":"%s","name":"Northwind Traders"},"targetedBuyerAccountIds":["%s"]}}\n' \
    "$1" "$ISV" "$1" "$1" "$ISV" "$PARTNER" "$2"
}
notified() { # key: lines of the file receiver with this notification key
  local c
  c=$(grep -c "\"key\": *\"$1\"" "$work/notifications.jsonl" 2>/dev/null)
  echo "${c:-0}"
}

# ---- the first sync: every authorization, source aws, nothing registered ----
tap_ok "the first sync records both authorizations from AWS" \
  wait_for "q 'SELECT COUNT(*) FROM authorizations WHERE aws_status IS NOT NULL'" 2 60
tap_ok "... with AWS's status, nothing registered" test \
  "$(q "SELECT aws_status || ',' || registered FROM authorizations WHERE id = '$RA'")" = "Active,0"
"$ctl" authorization show "$RA" "${cfg[@]}" >"$work/show.out" 2>&1
tap_ok "authorization show says where each field came from" \
  grep -q "^product: *prod-analytics01 (Analytics Suite)  \[aws\]" "$work/show.out"

# ---- Offer Released for it: Partner Offer Extended at once, inferred ----
offer_released offer-inferred-1 "$BUYER" | publish
tap_ok "Offer Released for the AWS-only authorization: Partner Offer Extended" \
  wait_for "notified partner_offer_extended/offer-inferred-1" 1 60
line=$(grep '"key": *"partner_offer_extended/offer-inferred-1"' "$work/notifications.jsonl")
tap_ok "... named after the AWS authorization, linked inferred, not late" python3 -c '
import json, sys
c = json.loads(sys.argv[1])["context"]
assert c["opportunity"]["name"] == "Northwind 12 months", c["opportunity"]
assert c["offer"]["link"] == "inferred" and c["offer"]["late"] is False, c["offer"]' "$line"
# the context is stored packed (pack.h): read as its document through store-unpack
tap_ok "... and its context carries the AWS status" test "$(q "SELECT hex(context) FROM notifications
  WHERE key = 'partner_offer_extended/offer-inferred-1'" | "$STORE_UNPACK" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["opportunity"]["aws_status"])')" = Active

# ---- a held offer AWS's record names: linked aws ----
offer_released offer-northwind-q22310 999900001111 | publish # buyer outside: no inference
tap_ok "a held offer that AWS's record names is linked aws" \
  wait_for "q \"SELECT COUNT(*) FROM offers WHERE id = 'offer-northwind-q22310' AND link = 'aws'\"" 1 60
tap_ok "... and its Partner Offer Extended goes out, late" \
  wait_for "notified partner_offer_extended/offer-northwind-q22310" 1 30
"$ctl" authorization show "$RA" "${cfg[@]}" >"$work/show.out" 2>&1
tap_ok "authorization show: How linked aws" grep -q "offer-northwind-q22310 *link=aws" "$work/show.out"

# ---- a held offer AWS hides: not visible, remembered ----
offer_released offer-hidden-001 999900002222 | publish
tap_ok "an offer AWS does not show is remembered as not visible" \
  wait_for "q \"SELECT COUNT(*) FROM aws_offer_lookups WHERE offer_id = 'offer-hidden-001' AND outcome = 'not_visible'\"" 1 60
before=$(calls DescribeEntity)
offer_released offer-direct-elsewhere 999900003333 | publish # another event, another hold
wait_for "q \"SELECT COUNT(*) FROM aws_offer_lookups WHERE offer_id = 'offer-direct-elsewhere'\"" 1 60
after=$(calls DescribeEntity)
tap_ok "... and not looked up again per event (one DescribeEntity for the new hold: $before -> $after)" \
  test "$after" -eq $((before + 1))

# ---- a Change Set Succeeded that restricts it, before the next event ----
control "{\"update\": {\"id\": \"$RA\", \"details\": {\"Status\": \"Restricted\"}}}"
control '{"change_set": {"ChangeSetId": "cs-restrict-nw", "ChangeSet": [{"ChangeType": "RestrictResaleAuthorization", "Entity": {"Type": "ResaleAuthorization@1.0", "Identifier": "resaleauthz-northwind-12m@3"}}]}}'
t0=$(now_ms)
printf '{"version":"0","id":"cs-evt-1","detail-type":"Change Set Succeeded","source":"aws.marketplacecatalog","account":"%s","time":"2025-03-05T10:00:00Z","detail":{"requestId":"cs-req-1","Catalog":"AWSMarketplace","ChangeSetId":"cs-restrict-nw"}}\n' "$ISV" | publish
tap_ok "Change Set Succeeded: the daemon describes it and the authorization is Restricted" \
  wait_for "q \"SELECT COUNT(*) FROM authorizations WHERE id = '$RA' AND aws_status = 'Restricted'\"" 1 60
tap_comment "change set event to Restricted in the store: $(( $(now_ms) - t0 )) ms"
offer_released offer-after-restrict "$BUYER" | publish
tap_ok "the next Offer Released finds it Restricted: held, no Partner Offer Extended" \
  wait_for "q \"SELECT COUNT(*) FROM holds WHERE offer_id = 'offer-after-restrict'\"" 1 60
tap_ok "... (none sent)" test "$(notified partner_offer_extended/offer-after-restrict)" = 0
tap_ok "the change set request is done" test \
  "$(q "SELECT outcome FROM aws_refresh WHERE change_set_id = 'cs-restrict-nw'")" = "refreshed 1"

# ---- 30 s of 429s: the sync waits, Kafka and deliveries do not ----
deals() { # first count: registration + partner offer per deal, each one delivery
  local i
  for i in $(seq "$1" $(($1 + $2 - 1))); do
    printf '{"version":"0","id":"reg-b%d","detail-type":"Resale Authorization Registered","source":"cppo-notify","account":"%s","time":"2025-03-06T10:00:00Z","detail":{"resaleAuthorizationId":"ra-b%d","productId":"prod-b","resellerAccountId":"%s","buyerAccountIds":["5000%08d"]}}\n' "$i" "$ISV" "$i" "$PARTNER" "$i"
    printf '{"version":"0","id":"or-b%d","detail-type":"Offer Released","source":"aws.marketplacecatalog","account":"%s","time":"2025-03-06T10:00:01Z","detail":{"offer":{"id":"offer-b%d"},"product":{"id":"prod-b"},"manufacturer":{"accountId":"%s"},"sellerOfRecord":{"accountId":"%s"},"targetedBuyerAccountIds":["5000%08d"]}}\n' "$i" "$ISV" "$i" "$ISV" "$PARTNER" "$i"
  done
}
delivered_b() { grep -c '"key": *"partner_offer_extended/offer-b' "$work/notifications.jsonl" 2>/dev/null; }
N=150
t0=$(now_ms)
deals 1 "$N" | publish
wait_for delivered_b "$N" 120
t_idle=$(( $(now_ms) - t0 ))
tap_comment "idle: $((2 * N)) events, $N deliveries in $t_idle ms ($(( 2 * N * 1000 / (t_idle + 1) )) events/s)"

throttled_before=$(curl -sf "$url/_standin/stats" | python3 -c "import json,sys; print(json.load(sys.stdin)['status'].get('429', 0))")
control '{"throttle_for": 30}'
t_throttle=$(now_ms)
control '{"change_set": {"ChangeSetId": "cs-during-throttle", "ChangeSet": [{"ChangeType": "UpdateInformation", "Entity": {"Type": "ResaleAuthorization@1.0", "Identifier": "resaleauthz-fabrikam-open@3"}}]}}'
printf '{"version":"0","id":"cs-evt-2","detail-type":"Change Set Succeeded","source":"aws.marketplacecatalog","account":"%s","time":"2025-03-06T11:00:00Z","detail":{"requestId":"cs-req-2","Catalog":"AWSMarketplace","ChangeSetId":"cs-during-throttle"}}\n' "$ISV" | publish
wait_for "curl -sf $url/_standin/stats | python3 -c \"import json,sys; print(json.load(sys.stdin)['status'].get('429', 0))\"" $((throttled_before + 1)) 30
t0=$(now_ms)
deals $((N + 1)) "$N" | publish
tap_ok "during the throttle: every event consumed and every delivery made" wait_for delivered_b $((2 * N)) 120
t_busy=$(( $(now_ms) - t0 ))
tap_comment "throttled: $((2 * N)) events, $N deliveries in $t_busy ms ($(( 2 * N * 1000 / (t_busy + 1) )) events/s); 429s so far: $(curl -sf "$url/_standin/stats" | python3 -c "import json,sys; print(json.load(sys.stdin)['status'].get('429', 0))")"
tap_ok "... while the sync still waits (its change set not refreshed yet)" test \
  "$(q "SELECT COUNT(*) FROM aws_refresh WHERE change_set_id = 'cs-during-throttle' AND done_at IS NULL")" = 1
tap_ok "after the throttle the sync catches up" \
  wait_for "q \"SELECT COUNT(*) FROM aws_refresh WHERE change_set_id = 'cs-during-throttle' AND done_at IS NOT NULL\"" 1 120
tap_comment "change set refreshed $(( ($(now_ms) - t_throttle) / 1000 )) s after the throttle began (30 s of 429s)"
tap_ok "the log says the sync was throttled" grep -q "aws refresh deferred error=EAGAIN" "$work/daemon.log"

# ---- metrics ----
port=$(sed -n 's/.*http listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$work/daemon.log" | head -1)
curl -sf "http://127.0.0.1:$port/metrics" >"$work/metrics"
tap_ok "metrics: API calls by operation and outcome" \
  grep -q 'cppo_aws_api_calls_total{operation="DescribeEntity",outcome="ok"} [1-9]' "$work/metrics"
tap_ok "metrics: throttles" grep -q 'cppo_aws_throttles_total{operation="DescribeChangeSet"} [1-9]' "$work/metrics"
tap_ok "metrics: last successful sync" grep -q '^cppo_aws_last_sync_timestamp_seconds [1-9]' "$work/metrics"
tap_ok "metrics: authorizations by source" grep -q 'cppo_authorizations{source="aws"} 2' "$work/metrics"
tap_ok "no secret in the log or the metrics" \
  bash -c "! grep -q standin-secret-key '$work/daemon.log' '$work/metrics'"

# ---- aws sync --dry-run: what would change (nothing: the daemon is current) ----
AWS_SECRET_ACCESS_KEY=standin-secret-key "$ctl" aws sync --dry-run "${cfg[@]}" >"$work/dry.out" 2>&1
tap_ok "aws sync --dry-run: nothing new or changed" grep -q "^0 new, 0 changed" "$work/dry.out"
control "{\"update\": {\"id\": \"$RA\", \"details\": {\"Name\": \"Northwind renamed\"}}}"
AWS_SECRET_ACCESS_KEY=standin-secret-key "$ctl" aws sync --dry-run "${cfg[@]}" >"$work/dry.out" 2>&1
tap_ok "aws sync --dry-run: lists the changed one" grep -q "changed  *$RA .*Northwind renamed" "$work/dry.out"
tap_ok "... and writes nothing" test "$(auth_field "$RA" name)" = "Northwind 12 months"

kill -TERM "$DAEMON_PID"
status=0
wait "$DAEMON_PID" || status=$?
tap_ok "SIGTERM: exit 0" test "$status" -eq 0

# ---- a bad secret key: a clear log line, and aws check names the fix ----
config aws-bad "$work/bad.db" "$work/bad.jsonl" >"$work/bad.yaml"
AWS_SECRET_ACCESS_KEY=typo-in-the-secret "$daemon" --config "$work/bad.yaml" --log-level info \
  2>>"$work/bad.log" &
BAD_PID=$!
peer_track "$BAD_PID"
tap_ok "a bad secret key: the daemon logs why and what to run" \
  wait_for "grep -c 'aws sync failed error=EPERM.*InvalidSignatureException.*cppo-notifyctl aws check' '$work/bad.log'" 1 60
tap_ok "... and keeps consuming (it is not fatal)" kill -0 "$BAD_PID"
AWS_SECRET_ACCESS_KEY=typo-in-the-secret "$ctl" aws check --endpoint "$url" >"$work/check.out" 2>&1
tap_ok "aws check names the fix" grep -q "^fix: .*AWS_SECRET_ACCESS_KEY" "$work/check.out"
tap_ok "the bad key is in neither" bash -c "! grep -q typo-in-the-secret '$work/bad.log' '$work/check.out'"
kill -TERM "$BAD_PID"
wait "$BAD_PID" 2>/dev/null

tap_passing || grep -v "notification kind" "$work/daemon.log" | tail -40 | tap_comment
tap_done
