#!/usr/bin/env bash
# The webhook and teams receivers against the webhook sink (issue 16): every
# webhook POST is verified with the Standard Webhooks reference library (npm
# `standardwebhooks`, run with node), never with cppo-notify's own code;
# every Teams card with the npm adaptivecards library.
#   s  send-test: the notification's JSON document (version 1, "test": true)
#      arrives with webhook-id/-timestamp/-signature and the custom
#      headers; two secrets in one file (rotation): the POST verifies with
#      either alone, and fails with a wrong one (so the check can fail); a
#      list of two secret files signs with both too; neither the URL, a
#      secret nor a custom header's value is printed
#   r  503 (Retry-After: 1) then 200: retried, sent on attempt 2, both
#      POSTs signed under the same webhook-id, each verifies
#   x  explain: the webhook receiver's payload is the versioned document,
#      the teams receiver's the Workflows message; the URL not printed
#   t  teams: send-test gets 202 (what a Workflows trigger answers): sent, the
#      card valid (test/node/validate-cards.js), the URL not printed; 429
#      with Retry-After then 202: retried and sent; 403 the receiver's
#   d  400: dead after one attempt with the consumer's text, the URL's
#      path (which it echoed) scrubbed;
#      401: the receiver's fault (deferred, budget kept)
# TAP; SKIP when node or the npm validator is missing (scripts/install-deps).
# Usage: webhook-delivery.sh DISPATCH_DRIVER CPPO_NOTIFYCTL   (needs CPPO_SOURCE_ROOT)
set -euo pipefail
source "$CPPO_SOURCE_ROOT/test/tools/tap.sh"
modules="$CPPO_SOURCE_ROOT/test/node/node_modules"
if ! command -v node >/dev/null || [ ! -d "$modules/standardwebhooks" ] ||
  [ ! -d "$modules/adaptivecards" ]; then
  tap_skip_all "node or the npm standardwebhooks or adaptivecards library is missing (run scripts/install-deps)"
fi
source "$CPPO_SOURCE_ROOT/test/tools/peers.sh"
driver=$(realpath "$1")
ctl=$(realpath "$2")
work=$PEER_TMP
verify="$CPPO_SOURCE_ROOT/test/node/verify-webhooks.js"
url_secret=URLsecret0123456789 # in every webhook URL; must never be printed
header_secret=Bearer-HDRsecret42 # a custom header's value; must never be printed

whsec() { # seed -> a whsec_ secret of 32 bytes
  python3 -c 'import base64,hashlib,sys; print("whsec_" + base64.b64encode(hashlib.sha256(sys.argv[1].encode()).digest()).decode())' "$1"
}
A=$(whsec a) B=$(whsec b) C=$(whsec c) WRONG=$(whsec wrong)
printf '%s\n%s\n' "$A" "$B" >"$work/rotation.secrets"
printf '%s\n' "$A" >"$work/a.secret"
printf '%s\n' "$C" >"$work/c.secret"
chmod 0600 "$work"/*.secret*

peer_start_webhook_sink "$work/hooks.jsonl" 2>>"$work/peers.log"
hook_url() { # name -> path of a secret file holding the URL
  printf 'http://127.0.0.1:%s/hooks/%s/%s\n' "$WEBHOOK_PORT" "$1" "$url_secret" >"$work/$1.url"
  echo "$work/$1.url"
}
sink() { curl -fsS -X POST --data "$2" "http://127.0.0.1:$WEBHOOK_PORT/$1" >/dev/null; }
posts() { grep -c "\"/hooks/$1/" "$work/hooks.jsonl" || true; }
header() { # name header -> its value in the last POST to that receiver
  python3 - "$work/hooks.jsonl" "$1" "$2" <<'PY'
import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if f"/hooks/{sys.argv[2]}/" in l]
print(dict((k.lower(), v) for k, v in r[-1]["headers"]).get(sys.argv[3], ""))
PY
}
verifies() { node "$verify" "$work/hooks.jsonl" "/hooks/$1/" "${@:2}" >>"$work/verify.log" 2>&1; }
refused() { node "$verify" "$work/hooks.jsonl" "/hooks/$1/" --expect-fail "${@:2}" >>"$work/verify.log" 2>&1; }

cat >"$work/c.yaml" <<YAML
kafka:
  brokers: 127.0.0.1:9
  topics: [t]
store:
  path: $work/state.db
receivers:
  crm:
    type: webhook
    webhook_url_file: $(hook_url crm)
    secret_file: $work/rotation.secrets
    headers:
      Authorization: "$header_secret"
      X-Env: test
    max_attempts: 3
  crm2:
    type: webhook
    webhook_url_file: $(hook_url crm2)
    secret_file: [$work/a.secret, $work/c.secret]
    timeout: 10s
  retry:
    type: webhook
    webhook_url_file: $(hook_url retry)
    secret_file: $work/a.secret
    max_attempts: 3
  dead:
    type: webhook
    webhook_url_file: $(hook_url dead)
    secret_file: $work/a.secret
  gone:
    type: webhook
    webhook_url_file: $(hook_url gone)
    secret_file: $work/a.secret
    max_age: 3s
  chat:
    type: teams
    webhook_url_file: $(hook_url chat)
    rate: 0
    max_age: 3s
YAML

# ---- s: send-test ------------------------------------------------------------
out=$("$ctl" send-test crm --config "$work/c.yaml" --kind new_order --timeout 20 2>&1) && rc=0 || rc=$?
echo "$out" >"$work/s.out"
tap_ok "s: send-test exit 0, result sent" eval '[ "$rc" -eq 0 ] && [[ "$out" == *"result: sent"* ]]'
tap_ok "s: one POST with the JSON document (version 1, kind, test: true)" \
  python3 -c 'import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; b=json.loads(r[0]["body"]); sys.exit(not (len(r)==1 and b["version"]==1 and b["kind"]=="new_order" and b["test"] is True and b["summary"].startswith("New order")))' "$work/hooks.jsonl"
tap_ok "s: webhook-id is the delivery key" eval '[[ "$(header crm webhook-id)" == */crm ]]'
tap_ok "s: webhook-timestamp is now (unix seconds)" \
  eval '[ $(( $(date +%s) - $(header crm webhook-timestamp) )) -lt 60 ]'
tap_ok "s: two v1 signatures, space-separated" \
  eval '[[ "$(header crm webhook-signature)" =~ ^v1,[A-Za-z0-9+/=]{44}\ v1,[A-Za-z0-9+/=]{44}$ ]]'
tap_ok "s: custom headers sent, content-type json" \
  eval '[ "$(header crm authorization)" = "$header_secret" ] && [ "$(header crm x-env)" = test ] && [ "$(header crm content-type)" = application/json ]'
tap_ok "s: standardwebhooks verifies with the first secret alone" verifies crm "$A"
tap_ok "s: ... and with the second alone (rotation)" verifies crm "$B"
tap_ok "s: ... and refuses a wrong secret" refused crm "$WRONG" "$C"
out2=$("$ctl" send-test crm2 --config "$work/c.yaml" --kind order_ended --timeout 20 2>&1) && rc=0 || rc=$?
tap_ok "s: a list of secret files signs with each" \
  eval '[ "$rc" -eq 0 ] && verifies crm2 "$A" && verifies crm2 "$C" && refused crm2 "$B"'
tap_ok "s: no URL, secret or header value printed" \
  eval '! grep -q -e "$url_secret" -e whsec_ -e "$header_secret" <<<"$out$out2"'

# ---- x: explain ---------------------------------------------------------------
mkdir -p "$work/rules.d"
printf 'rules:\n  - name: all\n    match:\n      kind: [{"exists": true}]\n    receivers: [crm, chat]\n' \
  >"$work/rules.d/10.yaml"
{ cat "$work/c.yaml"; printf 'rules_dir: %s/rules.d\n' "$work"; } >"$work/x.yaml"
out=$("$ctl" explain --config "$work/x.yaml" \
  "$CPPO_SOURCE_ROOT/test/fixtures/explain/agreement-created-manufacturer-new.in.jsonl" 2>&1) && rc=0 || rc=$?
tap_ok "x: explain shows the teams message" \
  eval 'grep -A1 "^--- receiver chat (teams)" <<<"$out" | grep -q "^{\"type\":\"message\",\"attachments\""'
tap_ok "x: explain shows the webhook document, not the URL" \
  eval '[ "$rc" -eq 0 ] && grep -A1 -q "^--- receiver crm (webhook)" <<<"$out" && grep -A1 "^--- receiver crm (webhook)" <<<"$out" | grep -q "^{\"version\":1,\"kind\":\"new_order\"" && ! grep -q "$url_secret" <<<"$out"'

# ---- r: 503 then 200 ---------------------------------------------------------
sink _script '[{"status": 503, "headers": {"Retry-After": "1"}}, {"status": 200}]'
mkdir -p "$work/r"
"$driver" "$work/c.yaml" "$work/r/state.db" --add retry:1 --until retry --timeout 30 \
  >"$work/r/out" 2>"$work/r/err" && rc=0 || rc=$?
tap_ok "r: driver done" [ "$rc" -eq 0 ]
tap_ok "r: sent on attempt 2 after a 503" \
  grep -q '^delivery test-1/retry receiver=retry status=sent attempts=2 code=200' "$work/r/out"
tap_ok "r: two POSTs, one webhook-id" \
  python3 -c 'import json,sys; r=[dict((k.lower(),v) for k,v in json.loads(l)["headers"]) for l in open(sys.argv[1]) if "/hooks/retry/" in l]; sys.exit(not (len(r)==2 and r[0]["webhook-id"]==r[1]["webhook-id"]=="test-1/retry"))' "$work/hooks.jsonl"
tap_ok "r: both verify with standardwebhooks" verifies retry "$A"

# ---- t: teams ---------------------------------------------------------------------
sink _script '[{"status": 202, "body": ""}]'
out=$("$ctl" send-test chat --config "$work/c.yaml" --kind attention_needed --timeout 20 2>&1) && rc=0 || rc=$?
tap_ok "t: send-test to teams: 202 is sent" eval '[ "$rc" -eq 0 ] && [[ "$out" == *"result: sent"* ]]'
tap_ok "t: the card that arrived is a valid Adaptive Card 1.5 with the test marker" \
  eval 'python3 -c "import json,sys; [print(\"test-teams\t\" + json.loads(l)[\"body\"]) for l in open(sys.argv[1]) if \"/hooks/chat/\" in l]" "$work/hooks.jsonl" | node "$CPPO_SOURCE_ROOT/test/node/validate-cards.js" >>"$work/verify.log"'
tap_ok "t: the URL is not printed" eval '[[ "$out" != *"$url_secret"* ]]'
sink _script '[{"status": 429, "headers": {"Retry-After": "1"}}, {"status": 202}]'
mkdir -p "$work/t"
"$driver" "$work/c.yaml" "$work/t/state.db" --add chat:1 --until chat --timeout 30 \
  >"$work/t/out" 2>"$work/t/err" && rc=0 || rc=$?
tap_ok "t: 429 then 202: retried, sent on attempt 2" \
  grep -q '^delivery test-1/chat receiver=chat status=sent attempts=2 code=202' "$work/t/out"
tap_ok "t: the retry waited for Retry-After (1 s)" \
  python3 -c 'import json,sys; t=[json.loads(l)["time"] for l in open(sys.argv[1]) if "/hooks/chat/" in l]; sys.exit(not (len(t)==3 and t[2]-t[1] >= 0.9))' "$work/hooks.jsonl"
sink _default '{"status": 403, "body": "flow disabled"}'
mkdir -p "$work/t2"
"$driver" "$work/c.yaml" "$work/t2/state.db" --add chat:1 --until chat --timeout 30 \
  >"$work/t2/out" 2>"$work/t2/err" && rc=0 || rc=$?
tap_ok "t: 403 is the receiver's: deferred until max_age, no budget used" \
  grep -q '^error test-1/chat teams: .*(gave up: max_age passed)$' "$work/t2/out"
sink _default '{"status": 200, "body": "ok"}'

# ---- d: 400 dead, 401 the receiver's ----------------------------------------
sink _script '[{"status": 400, "body": "bad payload for /hooks/dead/'"$url_secret"'"}]'
mkdir -p "$work/d"
"$driver" "$work/c.yaml" "$work/d/state.db" --add dead:1 --until dead --timeout 30 \
  >"$work/d/out" 2>"$work/d/err" && rc=0 || rc=$?
tap_ok "d: 400 dead after one attempt, the consumer's text kept" \
  eval 'grep -q "^delivery test-1/dead receiver=dead status=dead attempts=1 code=400" "$work/d/out" && grep -q "^error test-1/dead webhook: http 400: bad payload for \*" "$work/d/out"'
tap_ok "d: the URL's secret is nowhere in the output or logs" \
  eval '! grep -q "$url_secret" "$work/d/out" "$work/d/err"'
sink _default '{"status": 401, "body": "signature refused"}'
mkdir -p "$work/g"
"$driver" "$work/c.yaml" "$work/g/state.db" --add gone:1 --until gone --timeout 30 \
  >"$work/g/out" 2>"$work/g/err" && rc=0 || rc=$?
tap_ok "d: 401 is the receiver's fault: no attempt budget used, dead only when max_age passed" \
  grep -q '^error test-1/gone webhook: .*(gave up: max_age passed)$' "$work/g/out"
sink _default '{"status": 200, "body": "ok"}'
tap_done
