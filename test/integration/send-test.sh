#!/usr/bin/env bash
# cppo-notifyctl send-test against the real peers: a sample notification
# reaches the SMTP sink, the Slack stand-in and the file receiver, marked
# as a test in each ("[TEST] " subject and text parts, "[TEST] " Slack text
# and first block, "test": true in the JSON line); a webhook answering 400
# gives exit 1 and the error; an unknown receiver or kind is a usage error.
# Usage: send-test.sh CPPO_NOTIFYCTL   (needs CPPO_SOURCE_ROOT)
set -euo pipefail
source "$CPPO_SOURCE_ROOT/test/tools/peers.sh"
source "$CPPO_SOURCE_ROOT/test/tools/tap.sh"
ctl=$(realpath "$1")
work=$PEER_TMP
chmod 0755 "$work" # smtp-sink writes as nobody

peer_start_smtp_sink "$work/mail" 2>>"$work/peers.log"
peer_start_webhook_sink "$work/hooks.jsonl" 2>>"$work/peers.log"
printf 'http://127.0.0.1:%s/services/T/B/send-test-secret\n' "$WEBHOOK_PORT" >"$work/slack-url"
cat >"$work/c.yaml" <<YAML
kafka:
  brokers: 127.0.0.1:9
  topics: [t]
store:
  path: $work/state.db
smtp:
  url: smtp://127.0.0.1:$SMTP_PORT
  from: cppo-notify@acme.test
receivers:
  mail:
    type: email
    to: [revops@acme.test]
  chat:
    type: slack
    webhook_url_file: $work/slack-url
    max_attempts: 3
  audit:
    type: file
    path: $work/audit.jsonl
YAML

out=$("$ctl" send-test mail --config "$work/c.yaml" --timeout 20 2>&1) && rc=0 || rc=$?
tap_ok "email: exit 0, result sent" eval '[ "$rc" -eq 0 ] && [[ "$out" == *"result: sent"* ]]'
mail=$(find "$work/mail" -type f | head -1)
tap_ok "email: arrived at the SMTP sink with the test subject" \
  grep -q '^Subject: \[TEST\] New order: Example Buyer (test) bought Example Product (test)' "$mail"
tap_ok "email: the text and html parts say it is a test" \
  test "$(grep -c 'TEST MESSAGE sent by cppo-notifyctl send-test' "$mail")" -eq 2
tap_ok "email: envelope recipient" grep -q '^X-Rcpt-Args: <revops@acme.test>' "$mail"

out=$("$ctl" send-test chat --config "$work/c.yaml" --kind partner_offer_extended --timeout 20 2>&1) && rc=0 || rc=$?
tap_ok "slack: exit 0" [ "$rc" -eq 0 ]
tap_ok "slack: the stand-in got one POST with the test payload" \
  python3 -c 'import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; b=json.loads(r[0]["body"]); sys.exit(not (len(r)==1 and b["text"].startswith("[TEST] Partner offer extended")))' "$work/hooks.jsonl"
tap_ok "slack: the first block says it is a test" \
  python3 -c 'import json,sys; b=json.loads(json.loads(open(sys.argv[1]).readline())["body"]); sys.exit(not b["blocks"][0]["elements"][0]["text"].startswith("*TEST MESSAGE*"))' "$work/hooks.jsonl"
tap_ok "slack: the webhook URL is not printed" eval '[[ "$out" != *send-test-secret* ]]'

curl -fsS -X POST --data '[{"status":400,"body":"invalid_blocks"}]' "http://127.0.0.1:$WEBHOOK_PORT/_script" >/dev/null
out=$("$ctl" send-test chat --config "$work/c.yaml" --timeout 20 2>&1) && rc=0 || rc=$?
tap_ok "slack 400: exit 1, dead, with Slack's error text" \
  eval '[ "$rc" -eq 1 ] && [[ "$out" == *"result: dead"* ]] && [[ "$out" == *invalid_blocks* ]]'

out=$("$ctl" send-test audit --config "$work/c.yaml" --kind attention_needed --timeout 20 2>&1) && rc=0 || rc=$?
tap_ok "file: exit 0, one JSON line of kind attention_needed with test: true" \
  python3 -c 'import json,sys; l=open(sys.argv[1]).read().splitlines(); sys.exit(not (len(l)==1 and json.loads(l[0])["kind"]=="attention_needed" and json.loads(l[0])["test"] is True))' "$work/audit.jsonl"

out=$("$ctl" send-test audit --config "$work/c.yaml" --kind link_corrected --timeout 20 2>&1) && rc=0 || rc=$?
tap_ok "file: link_corrected can be sent as a test too" \
  python3 -c 'import json,sys; l=open(sys.argv[1]).read().splitlines(); sys.exit(not (len(l)==2 and json.loads(l[1])["kind"]=="link_corrected" and json.loads(l[1])["test"] is True))' "$work/audit.jsonl"

"$ctl" send-test nobody --config "$work/c.yaml" >/dev/null 2>&1 && rc=0 || rc=$?
tap_ok "unknown receiver: exit 2" [ "$rc" -eq 2 ]
"$ctl" send-test mail --config "$work/c.yaml" --kind bogus >/dev/null 2>&1 && rc=0 || rc=$?
tap_ok "unknown kind: exit 2" [ "$rc" -eq 2 ]
tap_done
