#!/usr/bin/env bash
# Issue 12 items 1-4: receivers cannot hold each other (or the stop)
# hostage, and one refused address never silences a mail. The real
# dispatcher (test/integration/dispatch-driver) against real peers:
#   base  a file and a Slack receiver (1500 + 400 deliveries) alone: the
#         baseline time
#   hang  the same with an e-mail receiver whose SMTP server hangs after
#         DATA (never answers the end of the message, nor QUIT)
#   fifo  the same plus a healthy e-mail receiver, with a file receiver
#         writing into a FIFO whose reader never reads
#   next  the hung mails, left in flight by the stop, go at the next start
#   rcpt  one recipient refused (550) at RCPT: the mail goes to the others,
#         the refusal is recorded on the attempt, shown by `deliveries show`
#         and told to the observer; a mail nobody accepts is dead
# The other receivers' time while one hangs, against the baseline, and how
# long the stop took (grace 1000 ms) are printed as TAP comments; what is
# asserted does not depend on timing: the healthy receivers finish while the
# hung ones are still stuck, the stop returns, the stuck deliveries stay
# queued or sending. On a dispatcher with one thread for all receivers the
# hang and fifo runs time out (and the stop never returns).
# Usage: delivery-isolation.sh DISPATCH_DRIVER CPPO_NOTIFYCTL   (needs CPPO_SOURCE_ROOT)
set -euo pipefail
source "$CPPO_SOURCE_ROOT/test/tools/peers.sh"
source "$CPPO_SOURCE_ROOT/test/tools/tap.sh"
driver=$(realpath "$1")
ctl=$(realpath "$2")
work=$PEER_TMP
tools=$CPPO_SOURCE_ROOT/test/tools

start_smtp_script() { # dir options... -> SMTP_PORT
  local fifo="$PEER_TMP/smtp.$RANDOM" line
  mkfifo "$fifo"
  python3 "$tools/smtp-script.py" "$@" >"$fifo" &
  peer_track $!
  line=$(peer_ready_line "$fifo" 10) || return 1
  SMTP_PORT=${line#ready }
}

config() { # name smtp_port, extra receivers YAML on stdin -> $work/NAME/config.yaml
  mkdir -p "$work/$1"
  {
    printf 'kafka:\n  brokers: 127.0.0.1:9\n  topics: [unused]\n'
    printf 'store:\n  path: %s/%s/state.db\n' "$work" "$1"
    printf 'smtp:\n  url: smtp://127.0.0.1:%s\n  from: cppo@dispatch.test\n' "$2"
    printf '  starttls: never\n  timeout: %s\nreceivers:\n' "${SMTP_TIMEOUT:-5s}"
    printf '  audit:\n    type: file\n    path: %s/%s/audit.jsonl\n' "$work" "$1"
    printf '  hook:\n    type: slack\n    webhook_url_file: %s\n    rate: 0\n    concurrency: 4\n' \
      "$work/hook.url"
    cat
  } >"$work/$1/config.yaml"
}

run_driver() { # name driver-args...; sets RC (124: killed, the stop never returned)
  RC=0
  timeout -s KILL 90 "$driver" "$work/$1/config.yaml" "$work/$1/state.db" "${@:2}" \
    >"$work/$1/out" 2>>"$work/$1/err" || RC=$?
}

value() { awk -v k="$2" '$1 == k { print $2 }' "$work/$1/out"; }

count_status() { # name receiver status
  grep -c "^delivery test-[0-9]*/$2 .*status=$3 " "$work/$1/out" || true
}

pending() { # name receiver -> deliveries queued or sending
  grep -c "^delivery test-[0-9]*/$2 .*status=\(queued\|sending\) " "$work/$1/out" || true
}

healthy_done() { # name: every file and Slack delivery sent
  [ "$(count_status "$1" audit sent)/$(count_status "$1" hook sent)" = 1500/400 ]
}

lines_parse() { # file: every line is a JSON object
  python3 -c 'import json, sys; [json.loads(l) for l in open(sys.argv[1])]' "$1"
}

peer_start_webhook_sink "$work/hooks.jsonl"
printf 'http://127.0.0.1:%s/services/T000/B000/isolation\n' "$WEBHOOK_PORT" >"$work/hook.url"
chmod 0600 "$work/hook.url"
start_smtp_script "$work/mail-ok"
ok_port=$SMTP_PORT
start_smtp_script "$work/mail-hang" --hang-after-data
hang_port=$SMTP_PORT
# Due 1.5 s after the start: by then the hung mails timed out (smtp.timeout
# 1 s) and libcurl is closing their connections (QUIT, no answer).
healthy=(--due-in 1500 --add audit:1500 --add hook:400 --until audit --until hook --timeout 60
  --grace 1000)

# ---- base, hang ---------------------------------------------------------------

SMTP_TIMEOUT=1s config base "$ok_port" </dev/null
run_driver base "${healthy[@]}"
tap_ok "base: the driver finished (rc $RC)" [ "$RC" -eq 0 ]
tap_ok "base: all 1900 sent" healthy_done base

SMTP_TIMEOUT=1s config hang "$hang_port" <<YAML
  stuck:
    type: email
    to: [ops@dispatch.test]
YAML
run_driver hang --add stuck:3 "${healthy[@]}"
tap_ok "hang: the driver finished while the SMTP server hung (rc $RC)" [ "$RC" -eq 0 ]
tap_ok "hang: all 1900 file and Slack deliveries sent" healthy_done hang
tap_ok "hang: the 3 mails not sent, still waiting" [ "$(pending hang stuck)" = 3 ]
tap_ok "hang: the stop returned (the driver was not killed)" [ "$RC" -ne 137 ]
tap_ok "hang: every JSON line parses" lines_parse "$work/hang/audit.jsonl"

# ---- fifo ---------------------------------------------------------------------

mkfifo "$work/jam.fifo"
exec {jam_fd}<>"$work/jam.fifo" # a reader that never reads
python3 -c 'import sys; sys.stdout.write("{\"pad\":\"" + "x" * 100000 + "\"}")' >"$work/jam.json"
config fifo2 "$ok_port" <<YAML
  mail:
    type: email
    to: [ops@dispatch.test]
    concurrency: 4
YAML
run_driver fifo2 --add mail:40 --add audit:1500 --add hook:400 --until audit --until hook \
  --until mail --timeout 60 --grace 1000
tap_ok "fifo baseline: the driver finished (rc $RC)" [ "$RC" -eq 0 ]
config fifo "$ok_port" <<YAML
  mail:
    type: email
    to: [ops@dispatch.test]
    concurrency: 4
  jam:
    type: file
    path: $work/jam.fifo
YAML
run_driver fifo --add jam:3:"$work/jam.json" --add mail:40 --add audit:1500 --add hook:400 \
  --until audit --until hook --until mail --timeout 60 --grace 1000
tap_ok "fifo: the driver finished while the FIFO was stalled (rc $RC)" [ "$RC" -eq 0 ]
tap_ok "fifo: all file and Slack deliveries sent" healthy_done fifo
tap_ok "fifo: all 40 mails sent" [ "$(count_status fifo mail sent)" = 40 ]
tap_ok "fifo: the FIFO deliveries not sent, still waiting" [ "$(pending fifo jam)" = 3 ]
tap_ok "fifo: the stop returned (the driver was not killed)" [ "$RC" -ne 137 ]
exec {jam_fd}<&-

ratio() { python3 -c 'import sys; print("%.2f" % (float(sys.argv[1]) / max(1.0, float(sys.argv[2]))))' "$1" "$2"; }
b=$(value base elapsed_ms) h=$(value hang elapsed_ms) b2=$(value fifo2 elapsed_ms) f=$(value fifo elapsed_ms)
tap_comment "throughput (due at 1500 ms): 1500 file + 400 Slack deliveries alone ${b} ms; with an SMTP server hung after DATA ${h} ms (x$(ratio "$h" "$b"))"
tap_comment "throughput: 1500 file + 400 Slack + 40 mails alone ${b2} ms; with a stalled FIFO receiver ${f} ms (x$(ratio "$f" "$b2"))"
tap_comment "stop (grace 1000 ms): hung SMTP $(value hang stop_ms) ms, stalled FIFO $(value fifo stop_ms) ms, idle $(value base stop_ms) ms"

# ---- next: the mails left in flight go at the next start -----------------------

sed -i "s|^  url: smtp://127.0.0.1:$hang_port|  url: smtp://127.0.0.1:$ok_port|" "$work/hang/config.yaml"
before=$(find "$work/mail-ok" -name '*.json' | wc -l)
run_driver hang --until stuck --timeout 60
tap_ok "next: the driver finished (rc $RC)" [ "$RC" -eq 0 ]
tap_ok "next: the 3 mails re-queued and sent" [ "$(count_status hang stuck sent)" = 3 ]
tap_ok "next: the server got them" wait_for "find '$work/mail-ok' -name '*.json' | wc -l" $((before + 3)) 10

# ---- rcpt: one recipient refused --------------------------------------------------

start_smtp_script "$work/mail-rcpt" --refuse bad@dispatch.test
config rcpt "$SMTP_PORT" <<YAML
  team:
    type: email
    to: [a@dispatch.test, bad@dispatch.test]
    cc: [c@dispatch.test]
  nobody:
    type: email
    to: [bad@dispatch.test]
YAML
run_driver rcpt --add team:2 --add nobody:1 --until team --until nobody --timeout 30
tap_ok "rcpt: the driver finished (rc $RC)" [ "$RC" -eq 0 ]
tap_ok "rcpt: both mails sent at the first attempt" \
  [ "$(grep -c '^delivery test-[0-9]*/team .*status=sent attempts=1 ' "$work/rcpt/out")" = 2 ]
tap_ok "rcpt: the refused recipient is recorded on the attempt" \
  grep -q '^attempt_refused test-1/team n=1 <bad@dispatch.test> (550)$' "$work/rcpt/out"
tap_ok "rcpt: the observer was told of 3 refusals (2 sent, 1 dead)" [ "$(value rcpt observed_refused)" = 3 ]
tap_ok "rcpt: the accepted recipients got both mails" python3 - "$work/mail-rcpt" <<'PY'
import json, os, sys
m = [json.load(open(os.path.join(sys.argv[1], f))) for f in os.listdir(sys.argv[1]) if f.endswith(".json")]
ok = len(m) == 2 and all(sorted(x["rcpt"]) == ["a@dispatch.test", "c@dispatch.test"] for x in m)
sys.exit(0 if ok else "# %r" % m)
PY
tap_ok "rcpt: a mail no recipient accepts is dead, 550" \
  grep -q '^delivery test-1/nobody .*status=dead attempts=1 code=550$' "$work/rcpt/out"
tap_ok "rcpt: its refusal is recorded too" \
  grep -q '^attempt_refused test-1/nobody n=1 <bad@dispatch.test> (550)$' "$work/rcpt/out"
tap_ok "rcpt: deliveries show lists the refused recipient" \
  bash -c '"$1" deliveries show test-1/team --state "$2" | grep -q "refused.*<bad@dispatch.test> (550)"' \
  _ "$ctl" "$work/rcpt/state.db"

tap_ok "no sanitizer report in any driver log" \
  bash -c '! grep -l -E "Sanitizer|runtime error" "$1"/*/err >&2' _ "$work"

tap_done
