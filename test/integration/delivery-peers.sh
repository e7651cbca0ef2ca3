#!/usr/bin/env bash
# Issue 6 acceptance: the dispatcher (through test/integration/dispatch-driver)
# against the real SMTP sink and webhook sink. Scenarios:
#   a  Slack 429 Retry-After: 2, then 200: the retry waits >= 2 s
#   b  Slack 500, 500, 200: sent on attempt 3, three attempts recorded
#   c  Slack 400 "invalid_blocks": dead after one attempt, Slack's text kept,
#      the webhook URL nowhere in the output or the logs
#   d  20 messages to one webhook: arrivals at least ~1 s apart
#   e  SMTP server down for the first ~8 s (a receiver fault): every mail
#      deferred, then delivered, with max_attempts 1 (the budget is intact)
#   f  a webhook answering 500 forever does not hold back email
#   i  SMTP DATA 5xx: permanent; j  RCPT 4xx: transient until max_attempts
#   k  stop aborts a hung transfer (left SENDING), the next start sends it
#   l  a reload moves a receiver to another webhook while it retries
#   m  HTTPS: verified with the receiver's ca_file, refused without it (a
#      receiver fault: deferred until max_age, no attempt budget used)
#   n  SMTP AUTH refused: the receiver is unhealthy, its mails wait (not
#      dead, budget intact); the next start probes it and sends them
#   o  a revoked webhook (404 no_service) that comes back: probed one at a
#      time, `receivers` shows unhealthy then healthy, nothing dead
#   g  a mail arrives with the exact payload bytes and envelope recipients
#   h  file receiver: one line per delivery, exactly the payload
# d and e run in the background while the others run.
# Usage: delivery-peers.sh DISPATCH_DRIVER CPPO_NOTIFYCTL   (needs CPPO_SOURCE_ROOT)
set -euo pipefail
source "$CPPO_SOURCE_ROOT/test/tools/peers.sh"
source "$CPPO_SOURCE_ROOT/test/tools/tap.sh"
driver=$(realpath "$1")
ctl=$(realpath "$2")
work=$PEER_TMP
chmod 0755 "$work" # smtp-sink runs as nobody and writes below here
secret=SECRETtoken0123456789 # in every webhook URL; must never be printed

# ---- helpers ---------------------------------------------------------------

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

hook_url_file() { # name port -> path of a secret file holding the URL
  printf 'http://127.0.0.1:%s/services/T000/B000/%s\n' "$2" "$secret" >"$work/$1.url"
  chmod 0600 "$work/$1.url"
  echo "$work/$1.url"
}

config() { # name smtp_port, receivers YAML on stdin -> $work/NAME/config.yaml
  mkdir -p "$work/$1"
  {
    printf 'kafka:\n  brokers: 127.0.0.1:9\n  topics: [unused]\n'
    printf 'store:\n  path: %s/%s/state.db\n' "$work" "$1"
    printf 'smtp:\n  url: smtp://127.0.0.1:%s\n  from: cppo@dispatch.test\n' "$2"
    printf '  timeout: 5s\nreceivers:\n'
    cat
  } >"$work/$1/config.yaml"
}

bad_runs=0
run_driver() { # name driver-args... (foreground); sets RC; EXPECT_RC (default 0)
  RC=0
  "$driver" "$work/$1/config.yaml" "$work/$1/state.db" "${@:2}" \
    >"$work/$1/out" 2>>"$work/$1/err" || RC=$?
  if [ "$RC" -ne "${EXPECT_RC:-0}" ]; then
    bad_runs=$((bad_runs + 1))
    echo "# driver $1 exited $RC" >&2
    tail -5 "$work/$1/err" >&2
  fi
}

start_driver() { # name driver-args... (background); sets DRIVER_PID
  "$driver" "$work/$1/config.yaml" "$work/$1/state.db" "${@:2}" \
    >"$work/$1/out" 2>"$work/$1/err" &
  DRIVER_PID=$!
  peer_track "$DRIVER_PID"
}

field() { # name key field -> value from the "delivery" line
  awk -v k="$2" -v f="$3=" '$1 == "delivery" && $2 == k {
    for (i = 3; i <= NF; i++) if (index($i, f) == 1) print substr($i, length(f) + 1) }' \
    "$work/$1/out"
}

is() { # name key field expected
  local got
  got=$(field "$1" "$2" "$3")
  [ "$got" = "$4" ] || { echo "# $1 $2 $3: got '$got', want '$4'" >&2; return 1; }
}

attempts_line() { # name key -> "outcome/code outcome/code ..."
  awk -v k="$2" '$1 == "attempt" && $2 == k {
    o = ""; c = ""
    for (i = 3; i <= NF; i++) { if ($i ~ /^outcome=/) o = substr($i, 9); if ($i ~ /^code=/) c = substr($i, 6) }
    printf "%s%s/%s", (n++ ? " " : ""), o, c }' "$work/$1/out"
}

attempts_are() { # name key expected
  local got
  got=$(attempts_line "$1" "$2")
  [ "$got" = "$3" ] || { echo "# $1 $2 attempts: got '$got', want '$3'" >&2; return 1; }
}

count_status() { # name status -> number of deliveries with it
  grep -c "^delivery .* status=$2 " "$work/$1/out" || true
}

# Arrival-time facts from a webhook sink's record file.
hooks() { # record-file python-expression-over-t(list of times)-and-r(records)
  python3 - "$1" "$2" <<'PY'
import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
t = [e["time"] for e in r]
print(eval(sys.argv[2]))
PY
}

ge() { # a b: a >= b (decimals)
  python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= float(sys.argv[2]) else 1)' "$1" "$2" ||
    { echo "# $1 < $2" >&2; return 1; }
}

files_in() { find "$1" -type f 2>/dev/null | wc -l; }

no_secret() { # files...: the webhook URL's secret part appears in none
  ! grep -l "$secret" "$@" >&2
}

# ---- d and e start first, in the background ---------------------------------

peer_start_webhook_sink "$work/hooks-d.jsonl"
config d 1 <<YAML
  pace:
    type: slack
    webhook_url_file: $(hook_url_file d "$WEBHOOK_PORT")
YAML
start_driver d --add pace:20 --timeout 60
d_pid=$DRIVER_PID

port_e=$(free_port)
config e "$port_e" <<YAML
  late:
    type: email
    to: [ops@dispatch.test]
    max_attempts: 1
YAML
start_driver e --add late:3 --timeout 100
e_pid=$DRIVER_PID
# The SMTP server comes up 8 s after the first attempts.
(
  sleep 8
  exec "$CPPO_SOURCE_ROOT/test/tools/smtp-sink.sh" "$work/mail-e" --port "$port_e" >"$work/smtp-e.out"
) &
peer_track $!

# ---- a: 429 with Retry-After, then 200 ---------------------------------------

echo '[{"status": 429, "headers": {"Retry-After": "2"}}, {"status": 200, "body": "ok"}]' >"$work/a.script"
peer_start_webhook_sink "$work/hooks-a.jsonl" --script "$work/a.script"
config a 1 <<YAML
  hook:
    type: slack
    webhook_url_file: $(hook_url_file a "$WEBHOOK_PORT")
YAML
run_driver a --add hook:1 --timeout 30
tap_ok "a: 429 then 200 is sent" is a test-1/hook status sent
tap_ok "a: two attempts, 429 then 200" attempts_are a test-1/hook "retry/429 sent/200"
tap_ok "a: the sink got 2 requests" [ "$(hooks "$work/hooks-a.jsonl" 'len(t)')" = 2 ]
gap=$(hooks "$work/hooks-a.jsonl" 't[1] - t[0] if len(t) > 1 else 0')
tap_comment "a: retry came $gap s after the 429"
tap_ok "a: the retry waited for Retry-After (>= 2 s)" ge "$gap" 2.0

# ---- b: 500, 500, 200 ---------------------------------------------------------

echo '[{"status": 500}, {"status": 500}, {"status": 200, "body": "ok"}]' >"$work/b.script"
peer_start_webhook_sink "$work/hooks-b.jsonl" --script "$work/b.script"
config b 1 <<YAML
  hook:
    type: slack
    webhook_url_file: $(hook_url_file b "$WEBHOOK_PORT")
YAML
run_driver b --add hook:1 --timeout 30
tap_ok "b: sent on attempt 3" is b test-1/hook attempts 3
tap_ok "b: status sent" is b test-1/hook status sent
tap_ok "b: attempts recorded 500, 500, 200" attempts_are b test-1/hook "retry/500 retry/500 sent/200"
tap_ok "b: dispatcher counters" grep -q '^stats sent=1 retried=2 dead=0 attempts=3 in_flight=0$' "$work/b/out"
tap_ok "b: three identical JSON bodies arrived" \
  [ "$(hooks "$work/hooks-b.jsonl" 'len(r) == 3 and len({e["body_base64"] for e in r}) == 1 and all(["Content-Type", "application/json"] in e["headers"] for e in r)')" = True ]

# ---- c: 400 invalid_blocks ------------------------------------------------------

echo '[{"status": 400, "body": "invalid_blocks"}]' >"$work/c.script"
peer_start_webhook_sink "$work/hooks-c.jsonl" --script "$work/c.script"
config c 1 <<YAML
  hook:
    type: slack
    webhook_url_file: $(hook_url_file c "$WEBHOOK_PORT")
YAML
run_driver c --add hook:1 --timeout 30
tap_ok "c: dead after one attempt" is c test-1/hook attempts 1
tap_ok "c: status dead" is c test-1/hook status dead
tap_ok "c: last error holds Slack's text" grep -q '^error test-1/hook .*invalid_blocks' "$work/c/out"
tap_ok "c: the sink got 1 request" [ "$(hooks "$work/hooks-c.jsonl" 'len(t)')" = 1 ]
tap_ok "c: the webhook URL is in no output or log" no_secret "$work/a/out" "$work/a/err" \
  "$work/b/out" "$work/b/err" "$work/c/out" "$work/c/err"

# ---- f: Slack failing forever does not delay email ---------------------------

peer_start_smtp_sink "$work/mail-f"
smtp_f=$SMTP_PORT
peer_start_webhook_sink "$work/hooks-f.jsonl" --default-status 500
config f "$smtp_f" <<YAML
  broken:
    type: slack
    webhook_url_file: $(hook_url_file f "$WEBHOOK_PORT")
    max_attempts: 100
  mail:
    type: email
    to: [ops@dispatch.test]
YAML
# Slack starts failing at once; the mails fall due 3 s later.
run_driver f --add broken:3 --due-in 3000 --add mail:5 --until mail --timeout 30
tap_ok "f: every mail sent at the first attempt" \
  [ "$(grep -c '^delivery test-[0-9]*/mail .*status=sent attempts=1 ' "$work/f/out")" = 5 ]
tap_ok "f: the SMTP sink holds 5 mails" wait_for "files_in '$work/mail-f'" 5 10
tap_ok "f: Slack still retrying (queued, not dead) meanwhile" \
  [ "$(grep -c '^delivery test-[0-9]*/broken .*status=\(queued\|sending\)' "$work/f/out")" = 3 ]
# at_ms of the first mail attempt, the last one, Slack attempts before the first
read -r start mail_first mail_last slack_before < <(awk '
  $1 == "start_ms" { start = $2 }
  $1 == "attempt" { split($4, a, "="); t[NR] = a[2]; k[NR] = $2 }
  END {
    for (i in t) if (k[i] ~ /\/mail$/) { if (!f || t[i] < f) f = t[i]; if (t[i] > l) l = t[i] }
    for (i in t) if (k[i] ~ /\/broken$/ && t[i] < f) n++
    print start, f, l, n + 0 }' "$work/f/out")
tap_comment "f: mails sent $((mail_first - start))..$((mail_last - start)) ms after the start (due at 3000), $slack_before failed Slack attempts before"
tap_ok "f: Slack had failed at least twice before the mails went" [ "$slack_before" -ge 2 ]
tap_ok "f: the mails went out within 2 s of falling due" [ $((mail_last - start)) -lt 5000 ]

# ---- i, j: SMTP reply codes ------------------------------------------------------

peer_start_smtp_sink "$work/mail-i" --data-5xx
config i "$SMTP_PORT" <<YAML
  refuse:
    type: email
    to: [ops@dispatch.test]
YAML
run_driver i --add refuse:1 --timeout 30
tap_ok "i: DATA 5xx is permanent: dead after one attempt" is i test-1/refuse attempts 1
tap_ok "i: status dead" is i test-1/refuse status dead
tap_ok "i: the 5xx reply code is recorded" grep -q '^attempt test-1/refuse .*outcome=dead code=5[0-9][0-9] ' "$work/i/out"

peer_start_smtp_sink "$work/mail-j" --rcpt-4xx
config j "$SMTP_PORT" <<YAML
  busy:
    type: email
    to: [ops@dispatch.test]
    max_attempts: 2
YAML
run_driver j --add busy:1 --timeout 30
tap_ok "j: RCPT 4xx is transient: retried, dead at max_attempts 2" \
  [ "$(attempts_line j test-1/busy | sed 's/[0-9][0-9]*/N/g')" = "retry/N dead/N" ]
tap_ok "j: the 4xx reply codes are recorded" \
  [ "$(grep -c '^attempt test-1/busy .*code=4[0-9][0-9] ' "$work/j/out")" = 2 ]
tap_ok "j: the last error says why it gave up" \
  grep -q '^error test-1/busy smtp: .*(gave up: max_attempts reached)$' "$work/j/out"

# ---- g: exact bytes and envelope --------------------------------------------

peer_start_smtp_sink "$work/mail-g"
config g "$SMTP_PORT" <<YAML
  exact:
    type: email
    to: [a@dispatch.test, b@dispatch.test]
    cc: [c@dispatch.test]
    bcc: [d@dispatch.test]
YAML
printf '%s\r\n' 'From: cppo@dispatch.test' 'To: a@dispatch.test, b@dispatch.test' \
  'Cc: c@dispatch.test' 'Subject: =?UTF-8?B?w6lkaXRpb24=?=' 'Message-ID: <g.1@dispatch.test>' \
  'MIME-Version: 1.0' 'Content-Type: text/plain; charset=utf-8' '' \
  'Line one.' '.a line starting with a dot' '..two dots' 'caf'$'\xc3\xa9' '' 'End.' >"$work/g.eml"
run_driver g --add "exact:1:$work/g.eml" --timeout 30
tap_ok "g: sent" is g test-1/exact status sent
wait_for "files_in '$work/mail-g'" 1 10 || true
tap_ok "g: one mail arrived with the exact payload and envelope" python3 - "$work/mail-g" "$work/g.eml" <<'PY'
import os, sys
d, payload = sys.argv[1], open(sys.argv[2], "rb").read()
files = [os.path.join(d, f) for f in os.listdir(d)]
if len(files) != 1:
    sys.exit("# %d mails" % len(files))
lines = open(files[0], "rb").read().split(b"\n")
i, rcpt, mail = 0, [], None
# smtp-sink's prefix: X-* lines, then its own Received: header (folded)
while lines[i].startswith(b"X-"):
    if lines[i].startswith(b"X-Rcpt-Args: "):
        rcpt.append(lines[i][13:])
    if lines[i].startswith(b"X-Mail-Args: "):
        mail = lines[i][13:]
    i += 1
if lines[i].startswith(b"Received:"):
    i += 1
    while lines[i][:1] in (b"\t", b" "):
        i += 1
body = b"\n".join(lines[i:])
want = payload.replace(b"\r\n", b"\n") + b"\n"  # the sink stores LF and ends with an empty line
ok = True
if body != want:
    sys.stderr.write("# body differs:\n# got  %r\n# want %r\n" % (body, want)); ok = False
if sorted(rcpt) != [b"<a@dispatch.test>", b"<b@dispatch.test>", b"<c@dispatch.test>", b"<d@dispatch.test>"]:
    sys.stderr.write("# recipients %r\n" % rcpt); ok = False
if mail is None or not mail.startswith(b"<cppo@dispatch.test>"):
    sys.stderr.write("# mail from %r\n" % mail); ok = False
sys.exit(0 if ok else 1)
PY

# ---- h: file receiver ------------------------------------------------------------

config h 1 <<YAML
  audit:
    type: file
    path: $work/h/audit.jsonl
YAML
run_driver h --add audit:5 --timeout 30
tap_ok "h: all 5 sent" [ "$(count_status h sent)" = 5 ]
tap_ok "h: one line per delivery, exactly the payload" python3 - "$work/h/audit.jsonl" <<'PY'
import json, sys
lines = open(sys.argv[1], "rb").read().split(b"\n")
assert lines[-1] == b"", "no final newline"
got = sorted(lines[:-1])
want = sorted(('{"n":%d,"key":"test-%d/audit"}' % (i, i)).encode() for i in range(1, 6))
if got != want:
    sys.exit("# got %r" % got)
PY

# ---- k: stop aborts what is in flight; the next start sends it ----------------

# A server that accepts connections and never answers.
hole_fifo="$work/hole.fifo"
mkfifo "$hole_fifo"
python3 -c '
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
print("ready", s.getsockname()[1], flush=True)
held = []
while True:
    held.append(s.accept()[0])
' >"$hole_fifo" &
peer_track $!
hole_port=$(peer_ready_line "$hole_fifo" 10)
hole_port=${hole_port#ready }
config k 1 <<YAML
  hook:
    type: slack
    webhook_url_file: $(hook_url_file k "$hole_port")
YAML
EXPECT_RC=3 run_driver k --add hook:1 --timeout 2 --grace 300
tap_ok "k: stopped while in flight: the driver timed out" [ "$RC" -eq 3 ]
tap_ok "k: the aborted delivery stays sending, no attempt recorded" \
  grep -q '^delivery test-1/hook .*status=sending attempts=0 ' "$work/k/out"
mv "$work/k/out" "$work/k/out.1"
peer_start_webhook_sink "$work/hooks-k.jsonl"
hook_url_file k "$WEBHOOK_PORT" >/dev/null # same receiver, now a working webhook
run_driver k --timeout 30
tap_ok "k: re-queued at the next start and sent" is k test-1/hook status sent
tap_ok "k: the sink got it once" [ "$(hooks "$work/hooks-k.jsonl" 'len(t)')" = 1 ]

# ---- l: reload swaps the config under way -------------------------------------------

peer_start_webhook_sink "$work/hooks-l1.jsonl" --default-status 500
l1_port=$WEBHOOK_PORT
peer_start_webhook_sink "$work/hooks-l2.jsonl"
config l 1 <<YAML
  hook:
    type: slack
    webhook_url_file: $(hook_url_file l1 "$l1_port")
    max_attempts: 100
YAML
mkdir -p "$work/l2"
sed "s|$work/l1.url|$(hook_url_file l2 "$WEBHOOK_PORT")|" "$work/l/config.yaml" >"$work/l2/config.yaml"
run_driver l --add hook:3 --reload "$work/l2/config.yaml" --reload-after 1500 --timeout 40
tap_ok "l: all 3 sent after the reload" [ "$(count_status l sent)" = 3 ]
tap_ok "l: the old webhook was tried before the reload" [ "$(hooks "$work/hooks-l1.jsonl" 'len(t)')" -ge 1 ]
tap_ok "l: the new webhook got each delivery once" [ "$(hooks "$work/hooks-l2.jsonl" 'len(t)')" = 3 ]

# ---- m: HTTPS webhook, verified against ca_file only ------------------------------

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
  -addext subjectAltName=IP:127.0.0.1,DNS:localhost \
  -keyout "$work/m-key.pem" -out "$work/m-cert.pem" 2>/dev/null
peer_start_webhook_sink "$work/hooks-m.jsonl" --tls "$work/m-cert.pem" "$work/m-key.pem"
sed -i 's|^http:|https:|' "$(hook_url_file m "$WEBHOOK_PORT")"
config m 1 <<YAML
  trusted:
    type: slack
    webhook_url_file: $work/m.url
    ca_file: $work/m-cert.pem
  untrusted:
    type: slack
    webhook_url_file: $work/m.url
    max_age: 3s # the shared webhook paces it ~1 s after "trusted"
YAML
run_driver m --add trusted:1 --add untrusted:1 --timeout 30
tap_ok "m: sent over HTTPS with the receiver's ca_file" is m test-1/trusted status sent
tap_ok "m: an unknown certificate is refused (verification always on)" \
  grep -q '^attempt test-1/untrusted .*outcome=deferred ' "$work/m/out"
tap_ok "m: a receiver fault: deferred until dead at max_age" \
  bash -c '[[ "$1" =~ ^(deferred/0\ )+dead/0$ ]]' _ "$(attempts_line m test-1/untrusted)"
tap_ok "m: it gave up because of max_age" \
  grep -q '^error test-1/untrusted slack: .*(gave up: max_age passed)$' "$work/m/out"
tap_ok "m: only the verified connection got through" [ "$(hooks "$work/hooks-m.jsonl" 'len(t)')" = 1 ]
tap_ok "m: the webhook URL is in no output or log" no_secret "$work/m/out" "$work/m/err"

# ---- d: pacing, 1 message per second per webhook ---------------------------------

d_rc=0
wait "$d_pid" || d_rc=$?
tap_ok "d: the driver finished (rc $d_rc)" [ "$d_rc" -eq 0 ]
tap_ok "d: 20 sent, each at the first attempt" \
  [ "$(grep -c '^delivery test-[0-9]*/pace .*status=sent attempts=1 ' "$work/d/out")" = 20 ]
tap_ok "d: the sink got 20 requests" [ "$(hooks "$work/hooks-d.jsonl" 'len(t)')" = 20 ]
gap=$(hooks "$work/hooks-d.jsonl" 'min(b - a for a, b in zip(t, t[1:])) if len(t) > 1 else 0')
tap_comment "d: smallest gap between arrivals $gap s"
tap_ok "d: consecutive arrivals >= 0.95 s apart" ge "$gap" 0.95

# ---- e: SMTP down at first -------------------------------------------------------

e_rc=0
wait "$e_pid" || e_rc=$?
tap_ok "e: the driver finished (rc $e_rc)" [ "$e_rc" -eq 0 ]
tap_ok "e: the SMTP sink came up late" grep -q '^ready ' "$work/smtp-e.out"
tap_ok "e: all 3 mails sent" [ "$(count_status e sent)" = 3 ]
tap_ok "e: each sent at its first budgeted attempt (max_attempts 1)" \
  [ "$(grep -c '^delivery test-[0-9]*/late .*status=sent attempts=1 ' "$work/e/out")" = 3 ]
tap_ok "e: failed attempts were connection errors, deferred" \
  [ "$(grep -c '^attempt test-[0-9]*/late .*outcome=deferred code=0 ' "$work/e/out")" -ge 3 ]
tap_ok "e: one log line down, one up" \
  [ "$(grep -c 'receiver unhealthy receiver=late ' "$work/e/err")/$(grep -c 'receiver healthy receiver=late ' "$work/e/err")" = 1/1 ]
tap_ok "e: the sink holds 3 mails" wait_for "files_in '$work/mail-e'" 3 10

# ---- n: SMTP AUTH refused, then a server that accepts ---------------------------

receivers_json() { # name -> the receivers view as JSON lines; RRC its exit code
  RRC=0
  "$ctl" receivers --state "$work/$1/state.db" --json >"$work/$1/receivers.json" || RRC=$?
}

receiver_is() { # name receiver python-expression-over-r (the receiver's JSON object)
  python3 - "$work/$1/receivers.json" "$2" "$3" <<'PY'
import json, sys
rows = {r["receiver"]: r for r in map(json.loads, open(sys.argv[1]))}
r = rows.get(sys.argv[2])
ok = r is not None and eval(sys.argv[3])
if not ok:
    sys.stderr.write("# %s: %r\n" % (sys.argv[2], r))
sys.exit(0 if ok else 1)
PY
}

peer_start_smtp_sink "$work/mail-n1" --auth-5xx
printf 'not-the-password\n' >"$work/n.pw"
chmod 0600 "$work/n.pw"
config n "$SMTP_PORT" <<YAML
  auth:
    type: email
    to: [ops@dispatch.test]
    max_attempts: 1
YAML
sed -i "s|^  timeout: 5s|  timeout: 5s\n  username: cppo\n  password_file: $work/n.pw|" "$work/n/config.yaml"
EXPECT_RC=3 run_driver n --add auth:3 --timeout 4
tap_ok "n: AUTH refused: nothing sent, nothing dead" [ "$(count_status n queued)" = 3 ]
tap_ok "n: no attempt budget used" \
  [ "$(grep -c '^delivery test-[0-9]*/auth .*attempts=0 ' "$work/n/out")" = 3 ]
tap_ok "n: the refusals were recorded as deferred" \
  grep -q '^attempt test-[0-9]*/auth .*outcome=deferred ' "$work/n/out"
receivers_json n
tap_ok "n: receivers exits 1 while a receiver is unhealthy" [ "$RRC" = 1 ]
tap_ok "n: receivers shows it unhealthy, why, and its queue" receiver_is n auth \
  'r["state"] == "unhealthy" and "Login denied" in r["last_error"] and r["queued"] == 3 and r["dead"] == 0 and r["consecutive_failures"] >= 1'
tap_ok "n: the password is in no output, log or view" \
  bash -c '! grep -l not-the-password "$@" >&2' _ "$work/n/out" "$work/n/err" "$work/n/receivers.json"
mv "$work/n/out" "$work/n/out.1"
peer_start_smtp_sink "$work/mail-n2" --no-auth # the server side was fixed
sed -i "s|^  url: smtp://127.0.0.1:[0-9]*|  url: smtp://127.0.0.1:$SMTP_PORT|" "$work/n/config.yaml"
run_driver n --timeout 60
tap_ok "n: the next start probes it and sends all 3" [ "$(count_status n sent)" = 3 ]
tap_ok "n: each at its first budgeted attempt" \
  [ "$(grep -c '^delivery test-[0-9]*/auth .*status=sent attempts=1 ' "$work/n/out")" = 3 ]
tap_ok "n: the server got 3 mails" wait_for "files_in '$work/mail-n2'" 3 10
receivers_json n
tap_ok "n: receivers then shows it healthy (exit 0)" receiver_is n auth \
  'r["state"] == "healthy" and r["queued"] == 0 and r["dead"] == 0 and r["sent"] == 3'
tap_ok "n: and exits 0" [ "$RRC" = 0 ]

# ---- o: a revoked webhook that comes back ------------------------------------------

peer_start_webhook_sink "$work/hooks-o.jsonl" --default-status 404 --default-body no_service
o_port=$WEBHOOK_PORT
config o 1 <<YAML
  revoked:
    type: slack
    webhook_url_file: $(hook_url_file o "$o_port")
    max_attempts: 1
    concurrency: 4
    rate: 0
YAML
start_driver o --add revoked:6 --timeout 90
o_pid=$DRIVER_PID
o_down() { # prints 1 once the view says unhealthy and exits 1
  receivers_json o
  [ "$RRC" = 1 ] && receiver_is o revoked 'r["state"] == "unhealthy"' 2>/dev/null && echo 1
}
tap_ok "o: receivers shows it unhealthy (exit 1)" wait_for o_down 1 30
tap_ok "o: with no_service as its last error and the queue waiting" receiver_is o revoked \
  '"no_service" in r["last_error"] and r["queued"] + r["sending"] == 6 and r["dead"] == 0'
# a probe after the first wave of 4 (concurrency), then the webhook comes back
tap_ok "o: probed again while down" wait_for "hooks '$work/hooks-o.jsonl' 'len(t)'" 5 30
curl -sS -o /dev/null -X POST --data '{"status": 200, "body": "ok"}' "http://127.0.0.1:$o_port/_default"
o_rc=0
wait "$o_pid" || o_rc=$?
tap_ok "o: the driver finished (rc $o_rc)" [ "$o_rc" -eq 0 ]
tap_ok "o: all 6 sent, nothing dead, budget intact" \
  [ "$(grep -c '^delivery test-[0-9]*/revoked .*status=sent attempts=1 ' "$work/o/out")" = 6 ]
tap_ok "o: every 404 was a deferred attempt, each request one attempt" python3 - "$work/o/out" "$work/hooks-o.jsonl" <<'PY'
import json, sys
att = [dict(kv.split("=", 1) for kv in l.split()[2:]) for l in open(sys.argv[1]) if l.startswith("attempt ")]
reqs = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
deferred = [a for a in att if a["outcome"] == "deferred"]
ok = all(a["code"] == "404" for a in deferred) and len(att) == len(reqs) and len(att) == len(deferred) + 6
sys.exit(0 if ok else "# %d attempts, %d deferred, %d requests" % (len(att), len(deferred), len(reqs)))
PY
tap_ok "o: while down, one probe at a time (no two deferred attempts overlap after the first wave)" \
  python3 - "$work/o/out" <<'PY'
import sys
att = [dict(kv.split("=", 1) for kv in l.split()[2:]) for l in open(sys.argv[1]) if l.startswith("attempt ")]
d = sorted((int(a["at_ms"]), int(a["at_ms"]) + int(a["latency_ms"])) for a in att if a["outcome"] == "deferred")
# the first wave is the 4 (concurrency) started at once; each later
# attempt on the unhealthy receiver starts after every earlier one ended
bad = [x for i, x in enumerate(d) if i >= 4 and x[0] < max(e for _, e in d[:i])]
print("# o: %d deferred attempts, %d probes after the first wave" % (len(d), len(d) - 4))
sys.exit("# overlapping probes %r" % bad if bad or len(d) < 5 else 0)
PY
tap_ok "o: one log line down, one up" \
  [ "$(grep -c 'receiver unhealthy receiver=revoked ' "$work/o/err")/$(grep -c 'receiver healthy receiver=revoked ' "$work/o/err")" = 1/1 ]
receivers_json o
tap_ok "o: receivers shows it healthy again (exit 0)" receiver_is o revoked \
  'r["state"] == "healthy" and r["queued"] == 0 and r["dead"] == 0 and r["sent"] == 6'
tap_ok "o: the webhook URL is in no output, log or view" \
  no_secret "$work/o/out" "$work/o/err" "$work/o/receivers.json"

tap_ok "every driver run exited as expected" [ "$bad_runs" -eq 0 ]
tap_ok "no sanitizer report in any driver log" \
  bash -c '! grep -l -E "Sanitizer|runtime error" "$1"/*/err >&2' _ "$work"

tap_done
