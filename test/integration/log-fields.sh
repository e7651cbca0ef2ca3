#!/usr/bin/env bash
# Event data cannot forge log fields: the daemon, fed events whose offer id
# and agreement id carry `" key=forged error="y` (and a newline), writes
# key=value lines that an independent logfmt parser (npm `logfmt`, the
# Heroku parser, run with node) reads back with the ids intact as single
# values and no field named `forged`. TAP; SKIP when node or the parser is
# missing (scripts/install-deps installs both).
# Usage: log-fields.sh CPPO_NOTIFYD  (needs MOCK_KAFKA, CPPO_SOURCE_ROOT)
set -uo pipefail
source "$CPPO_SOURCE_ROOT/test/tools/tap.sh"
modules="$CPPO_SOURCE_ROOT/test/node/node_modules"
if ! command -v node >/dev/null || [ ! -d "$modules/logfmt" ]; then
  tap_skip_all "node or the npm logfmt parser is missing (run scripts/install-deps)"
fi
source "$CPPO_SOURCE_ROOT/test/tools/peers.sh"
daemon=$(realpath "$1")
work=$PEER_TMP

peer_start_mock_kafka --brokers 1 --topic mp-events:1
daemon_test_config log-test "$work/state.db" "$work/notifications.jsonl" >"$work/cppo-notify.yaml"

"$daemon" --config "$work/cppo-notify.yaml" --log-level info 2>>"$work/daemon.log" &
DAEMON_PID=$!
peer_track "$DAEMON_PID"

forged='x\" key=forged error=\"y'
{
  # An agreement for a CPPO offer: a new_order whose key carries the id.
  printf '%s\n' '{"version":"0","id":"ev-log-1","detail-type":"Purchase Agreement Created - Manufacturer","source":"aws.agreement-marketplace","account":"111122223333","time":"2025-03-04T09:15:27Z","detail":{"requestId":"rq-log-1","agreement":{"id":"agmt-'"$forged"'","offerId":"offer-'"$forged"'","intent":"NEW","status":"ACTIVE"},"resaleAuthorization":{"id":"ra-log-1"},"product":{"id":"prod-log"},"acceptor":{"accountId":"777788889999"},"proposer":{"accountId":"444455556666"},"manufacturer":{"accountId":"111122223333"}}}'
  # Not JSON at all: rejected, logged with its message.
  printf '%s\n' 'not json key=forged'
} | kcat -P -b "$KAFKA_BROKERS" -t mp-events
notified() { grep -c 'notification kind=new_order' "$work/daemon.log"; }
tap_ok "the daemon records the order (and logs it)" wait_for notified 1 60

kill -TERM "$DAEMON_PID"
status=0
wait "$DAEMON_PID" || status=$?
tap_ok "SIGTERM: exit 0" test "$status" -eq 0

# Each line: "<level>: <message> [file:line]"; the parser reads the message.
parsed=$(NODE_PATH="$modules" node -e '
  const logfmt = require("logfmt");
  const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean);
  const out = lines.map((l) => logfmt.parse(l.replace(/ \[[^\]]*\]$/, "")));
  console.log(JSON.stringify(out));' "$work/daemon.log")
tap_ok "the logfmt parser reads the log" test -n "$parsed"
check() { # python expression over `lines` (the parsed objects)
  python3 -c 'import json, sys; lines = json.loads(sys.argv[1]); sys.exit(0 if ('"$1"') else 1)' "$parsed"
}
tap_ok "no line has a field named key=forged or error=y" \
  check 'not any(l.get("key") == "forged" or l.get("error") == "y\"" or l.get("error") == "y" for l in lines)'
tap_ok "the notification line carries the whole key as one value" \
  check 'any(l.get("key") == "new_order/agmt-x\" key=forged error=\"y" for l in lines)'
tap_ok "the rejected input is one line with its reason" \
  check 'any(l.get("reason") == "invalid_json" for l in lines)'
tap_passing || tail -20 "$work/daemon.log" | tap_comment
tap_done
