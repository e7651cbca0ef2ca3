#!/usr/bin/env bash
# Issues 6 and 7 acceptance through the real daemon: events go to the mock
# Kafka cluster with kcat, cppo-notifyd correlates, routes and dispatches
# them to the real peers (postfix's smtp-sink, the webhook sink, a file).
#   a  header injection and encoding: a registration whose buyer company
#      name carries "\r\nBcc: x@evil.test" and non-ASCII, and whose name
#      carries CR/LF; the two mails about it (partner offer extended, new
#      order) are checked on the files smtp-sink wrote: every header once,
#      the whole header block byte for byte (Date masked), an RFC 2047
#      Subject that decodes to one line, no Bcc anywhere, text part first,
#      one thread (same References/In-Reply-To, different Message-IDs);
#   b  SIGHUP with a broken rules file keeps the old rules, proved by the
#      deliveries of a deal published after it; a fixed rules file then
#      routes the next deal to the file receiver only;
#   c  /metrics after a and b: deliveries sent per receiver equal what the
#      sinks received, notifications by kind equal the notifications table;
#   d  SIGKILL while 1500 deliveries (500 each to smtp-sink, the webhook
#      sink and a file) are being dispatched, restart: every delivery
#      arrives at least once, duplicates no more than the deliveries that
#      were SENDING at the kill (figures as TAP comments);
#   and the daemon exits 0 on SIGTERM, after a-c and after d.
# With CPPO_TEST_STORE=pg (notify-e2e-pg) both stores are databases on a
# real PostgreSQL server: the same expectations.
# Usage: notify-e2e.sh CPPO_NOTIFYD   (needs MOCK_KAFKA, CPPO_SOURCE_ROOT)
set -euo pipefail
source "$CPPO_SOURCE_ROOT/test/tools/peers.sh"
source "$CPPO_SOURCE_ROOT/test/tools/tap.sh"
daemon=$(realpath "$1")
deals="$CPPO_SOURCE_ROOT/test/integration/deals.py"
work=$PEER_TMP
chmod 0755 "$work" # smtp-sink runs as nobody and writes below here
log=$work/daemon.log
topic=e2e-events
from=cppo@notify-e2e.test

tap_on_failure() { tap_comment "daemon log (tail):"; tail -20 "$log" | tap_comment; }
truth() { if "$@"; then echo 1; else echo 0; fi; }

peer_start_mock_kafka --brokers 1 --topic "$topic:3" --topic e2e-kill:3
peer_start_smtp_sink "$work/mail" 2>>"$work/peers.log"
peer_start_webhook_sink "$work/hooks.jsonl" 2>>"$work/peers.log"
hook_url() { # file port
  printf 'http://127.0.0.1:%s/services/T0E2E/B0E2E/not-a-real-secret\n' "$2" >"$1"
  chmod 0600 "$1"
}
hook_url "$work/hook-url" "$WEBHOOK_PORT"
test_store_init || tap_bail "no store"

write_config() { # dir smtp_port concurrency hook_url_file (the store: $db)
  mkdir -p "$1/rules.d"
  cat >"$1/cppo-notify.yaml" <<YAML
kafka:
  brokers: $KAFKA_BROKERS
  topics: [$topic]
  group: e2e-$(basename "$1")
  properties:
    session.timeout.ms: "6000"
    heartbeat.interval.ms: "500"
    reconnect.backoff.max.ms: "1000"
$(store_yaml "$db")
$([[ "$db" == postgresql://* ]] || echo "  synchronous: normal")
smtp:
  url: smtp://127.0.0.1:$2
  from: $from
  starttls: never
  timeout: 10s
receivers:
  mail:
    type: email
    to: [revops@notify-e2e.test]
    include_authorization_contacts: true
    concurrency: $3
  journal:
    type: file
    path: $1/journal.jsonl
  hooks:
    type: slack
    webhook_url_file: $4
    rate: 1000
    concurrency: $3
http:
  listen: 127.0.0.1:0
rules_dir: rules.d
YAML
}

start_daemon() { # dir
  "$daemon" --config "$1/cppo-notify.yaml" --log-level info 2>>"$log" &
  DAEMON_PID=$!
  peer_track "$DAEMON_PID"
  wait_for "log_count 'http listening on'" "$((STARTS + 1))" 20
  STARTS=$((STARTS + 1))
  PORT=$(sed -n 's/.*http listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | tail -1)
}
STARTS=0
log_count() { grep -cE "$1" "$log" || true; }
publish() { # file of deal lines
  kcat -P -b "$KAFKA_BROKERS" -t "$topic" -K$'\t' -l "$1"
}
sql() { store_sql "$db" "$1" 2>/dev/null || echo 0; }
mails() { find "$work/mail" -type f | wc -l; }
mails_about() { grep -l "^X-CPPO-Opportunity-Id: $1\$" "$work"/mail/* 2>/dev/null | wc -l || true; }
lines() { wc -l <"$1" 2>/dev/null || echo 0; }
hooks() { lines "$work/hooks.jsonl"; }
metric() { # name{labels} -> value (0 when absent)
  curl -sf "http://127.0.0.1:$PORT/metrics" | awk -v m="$1" '$1 == m { v = $2 } END { print v + 0 }'
}

# ---- a. header injection and encoding ---------------------------------------
run=$work/run
db=$(test_store "$work/e2e-run.db") || tap_bail "no store"
write_config "$run" "$SMTP_PORT" 4 "$work/hook-url"
cat >"$run/rules.d/10-route.yaml" <<'YAML'
rules:
  - name: everything
    match:
      kind: [{exists: true}]
    receivers: [mail, journal, hooks]
YAML
start_daemon "$run"

# UTF-8 bytes spelled out: $'\u...' depends on the locale.
evil_company=$'Evil Co\r\nBcc: x@evil.test M\xc3\xbcller & S\xc3\xb6hne \xe2\x80\x94 \xe6\x9d\xb1\xe4\xba\xac'
evil_name=$'Evil 12m\r\nX-Injected: yes\r\n\r\nbody'
python3 "$deals" --first 1 --count 1 --company "$evil_company" --name "$evil_name" >"$run/deal-1.tsv"
publish "$run/deal-1.tsv"
# A sink file exists while its message arrives: wait for the daemon to
# record both mails as sent (smtp-sink acknowledged them) as well.
mail_sent() { sql "SELECT COUNT(*) FROM deliveries WHERE opportunity_id = '$1' AND receiver = 'mail' AND status = 2"; }
mails_1() { [ "$(mails_about resaleauthz-e2e-1)" = 2 ] && [ "$(mail_sent resaleauthz-e2e-1)" = 2 ]; }
tap_ok "deal 1 (evil names): two mails reach smtp-sink" wait_for "truth mails_1" 1 60

# The two mails about deal 1, checked on the files smtp-sink wrote: each
# file is the sink's envelope lines (X-Client-Addr ... X-Rcpt-Args), its
# Received header, then the message exactly as the daemon sent it (smtp-sink
# stores each CRLF as LF, so the comparisons here are on LF lines).
# Expected values are derived here, independently: Message-ID is the
# name-based UUID (v5, the project's namespace) of the delivery key, the
# thread id that of "thread/" + the authorization id, the boundary the
# first 12 bytes of SHA-256(Message-ID) in hex. Only Date is masked.
mail_check() { # what -> exit status; explanations on stderr
  python3 - "$1" "$work/mail" "$from" <<'PY'
import email, email.policy, hashlib, os, re, sys, uuid

what, maildir, sender = sys.argv[1:4]
NS = uuid.UUID("40bfd868-bc1b-4073-a011-211cd9d88209")
domain = sender.split("@")[1]
opp = "resaleauthz-e2e-1"
company = "Evil Co  Bcc: x@evil.test M\u00fcller & S\u00f6hne \u2014 \u6771\u4eac"
SUBJECTS = {  # notification key -> (decoded subject, encoded header lines)
    "new_order/agmt-e2e-1": (
        "New order: %s bought Acme Observability Platform via Channel Partner Co "
        "(opportunity %s)" % (company, opp),
        "Subject: =?UTF-8?Q?New_order=3A_Evil_Co__Bcc=3A_x=40evil=2Etest_M=C3=BCller_?=\r\n"
        " =?UTF-8?Q?=26_S=C3=B6hne_=E2=80=94_=E6=9D=B1=E4=BA=AC_bought_Acme_Observa?=\r\n"
        " =?UTF-8?Q?bility_Platform_via_Channel_Partner_Co_=28opportunity_resaleaut?=\r\n"
        " =?UTF-8?Q?hz-e2e-1=29?=\r\n"),
    "partner_offer_extended/offer-e2e-1": (
        "Partner offer extended: Channel Partner Co offered Acme Observability Platform "
        "to %s (opportunity %s)" % (company, opp),
        "Subject: =?UTF-8?Q?Partner_offer_extended=3A_Channel_Partner_Co_offered_Acme?=\r\n"
        " =?UTF-8?Q?_Observability_Platform_to_Evil_Co__Bcc=3A_x=40evil=2Etest_M?=\r\n"
        " =?UTF-8?Q?=C3=BCller_=26_S=C3=B6hne_=E2=80=94_=E6=9D=B1=E4=BA=AC_=28oppor?=\r\n"
        " =?UTF-8?Q?tunity_resaleauthz-e2e-1=29?=\r\n"),
}
ONCE = ["Date", "From", "To", "Subject", "Message-ID", "In-Reply-To", "References",
        "Auto-Submitted", "X-CPPO-Opportunity-Id", "X-CPPO-Notification-Key", "MIME-Version",
        "Content-Type"]
ENVELOPE = ["X-Mail-Args: <%s>" % sender, "X-Rcpt-Args: <revops@notify-e2e.test>",
            "X-Rcpt-Args: <ae1@acme.test>"]


def stable_id(name):
    return "%s@%s" % (uuid.uuid5(NS, name), domain)


def split(raw):
    """(sink's envelope lines, the daemon's header block, body)."""
    head, _, body = raw.partition(b"\n\n")
    lines = head.split(b"\n")
    # smtp-sink's own lines: X-... then "Received:" with its continuations
    i = 0
    while not lines[i].startswith(b"Received:"):
        i += 1
    env = [l.decode() for l in lines[:i]]
    i += 1
    while lines[i][:1] in (b"\t", b" "):
        i += 1
    return env, b"\n".join(lines[i:]) + b"\n", body


mails = {}
for name in sorted(os.listdir(maildir)):
    raw = open(os.path.join(maildir, name), "rb").read()
    if re.search(rb"^X-CPPO-Opportunity-Id: %s$" % opp.encode(), raw, re.M):
        m = re.search(rb"^X-CPPO-Notification-Key: (.*)$", raw, re.M)
        mails[m.group(1).decode()] = raw
if sorted(mails) != sorted(SUBJECTS):
    sys.exit("mails about %s: %s" % (opp, sorted(mails)))

fail = []
for key, raw in sorted(mails.items()):
    env, head, body = split(raw)
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    names = [l.split(b":")[0].decode() for l in head.split(b"\n") if l and l[:1] not in b" \t"]
    mid, thread = stable_id(key + "/mail"), stable_id("thread/" + opp)
    if what == "once":
        for h in ONCE:
            if names.count(h) != 1:
                fail.append("%s: header %s appears %d times" % (key, h, names.count(h)))
        if msg["Auto-Submitted"] != "auto-generated":
            fail.append("%s: Auto-Submitted is %r" % (key, msg["Auto-Submitted"]))
        if msg.get_content_type() != "multipart/alternative":
            fail.append("%s: Content-Type %s" % (key, msg.get_content_type()))
    elif what == "bytes":
        boundary = "=_cppo_" + hashlib.sha256(mid.encode()).hexdigest()[:24]
        want = ("Date: (masked)\r\n"
                "From: <%s>\r\n"
                "To: revops@notify-e2e.test, ae1@acme.test\r\n"
                "%s"
                "Message-ID: <%s>\r\n"
                "In-Reply-To: <%s>\r\n"
                "References: <%s>\r\n"
                "Auto-Submitted: auto-generated\r\n"
                "X-CPPO-Opportunity-Id: %s\r\n"
                "X-CPPO-Notification-Key: %s\r\n"
                "MIME-Version: 1.0\r\n"
                "Content-Type: multipart/alternative;\r\n"
                " boundary=\"%s\"\r\n") % (sender, SUBJECTS[key][1], mid, thread, thread, opp,
                                          key, boundary)
        got = re.sub(rb"^Date: [A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d \+0000\n",
                     b"Date: (masked)\n", head)
        want = want.replace("\r\n", "\n")
        if got != want.encode():
            fail.append("%s: header block differs:\n--- got\n%s\n--- want\n%s" % (
                key, got.decode("utf-8", "replace"), want))
        if env[-len(ENVELOPE):] != ENVELOPE or any("evil" in l for l in env):
            fail.append("%s: envelope %s" % (key, env))
    elif what == "subject":
        subject = str(msg["Subject"])
        if subject != SUBJECTS[key][0] or "\r" in subject or "\n" in subject:
            fail.append("%s: Subject decodes to %r" % (key, subject))
        if not all(l.startswith((b"Subject: =?UTF-8?", b" =?UTF-8?")) and len(l) <= 78
                   for l in SUBJECTS[key][1].encode().split(b"\r\n")[:-1]):
            fail.append("%s: Subject not RFC 2047 words within 78 columns" % key)
    elif what == "evil":
        if re.search(rb"^(bcc|x-injected)\s*:", head, re.I | re.M):
            fail.append("%s: a Bcc or X-Injected header" % key)
        if b"x@evil.test" in head or any("evil" in l for l in env):
            fail.append("%s: x@evil.test in the headers or the envelope" % key)
        if any(len(l) > 78 for l in head.split(b"\n")):
            fail.append("%s: a header line over 78 columns" % key)
    elif what == "parts":
        types = [p.get_content_type() for p in msg.iter_parts()]
        if types != ["text/plain", "text/html"]:
            fail.append("%s: parts %s" % (key, types))
        elif "Evil 12m" not in msg.get_body(("plain",)).get_content():
            fail.append("%s: the text part lacks the authorization name" % key)
        elif ("M\u00fcller &amp; S\u00f6hne" not in msg.get_body(("html",)).get_content() or
              "& S\u00f6hne" in msg.get_body(("html",)).get_content()):
            fail.append("%s: the company name is not HTML-escaped in the html part" % key)
if what == "thread":
    ids = {k: email.message_from_bytes(v, policy=email.policy.default) for k, v in mails.items()}
    mids = {str(m["Message-ID"]) for m in ids.values()}
    refs = {(str(m["In-Reply-To"]), str(m["References"])) for m in ids.values()}
    want_ref = "<%s>" % stable_id("thread/" + opp)
    want_mids = {"<%s>" % stable_id(k + "/mail") for k in mails}
    if len(mids) != 2 or mids != want_mids:
        fail.append("Message-IDs %s, want %s" % (mids, want_mids))
    if refs != {(want_ref, want_ref)}:
        fail.append("In-Reply-To/References %s, want %s" % (refs, want_ref))
for f in fail:
    print(f, file=sys.stderr)
sys.exit(1 if fail else 0)
PY
}
tap_ok "every expected header is there exactly once (Date, From, To, Subject, Message-ID, In-Reply-To, References, Auto-Submitted, X-CPPO-*, MIME-Version, Content-Type multipart/alternative)" \
  mail_check once
tap_ok "the header blocks equal the expected ones byte for byte (Date masked) and the envelope is From + two To" \
  mail_check bytes
tap_ok "Subject is RFC 2047 encoded and decodes to the expected one-line text" mail_check subject
tap_ok "no Bcc or injected header, no x@evil.test in the headers or the envelope, no line over 78" \
  mail_check evil
tap_ok "text/plain first, text/html second (the company name HTML-escaped there)" mail_check parts
tap_ok "both mails are one thread: same In-Reply-To/References, Message-IDs differ (stable per delivery)" \
  mail_check thread

# ---- b. SIGHUP with a broken rules file keeps the old rules -----------------
# The running rules send everything to mail, journal and hooks. The broken
# file uses an operator that does not exist; after the refused reload, deal
# 2 must still go to all three. Then rules that send everything to the
# journal only are accepted, and deal 3 goes to the journal only.
deliveries_of() { # opportunity -> "receiver:status receiver:status ..." sorted
  store_sql "$db" "SELECT receiver || ':' || status FROM deliveries WHERE opportunity_id = '$1'
                 ORDER BY receiver, key" 2>/dev/null | tr '\n' ' '
}
cat >"$run/rules.d/10-route.yaml" <<'YAML'
rules:
  - name: everything
    match:
      kind: [{regex: "^new"}]
    receivers: [journal]
YAML
refused_before=$(log_count 'reload refused')
kill -HUP "$DAEMON_PID"
tap_ok "SIGHUP with a broken rules file logs its path:line:col" \
  wait_for "log_count '$run/rules.d/10-route.yaml:[0-9]+:[0-9]+: '" 1 20
tap_ok "... and refuses the reload, keeping the running configuration" \
  wait_for "log_count 'reload refused, keeping the running configuration'" $((refused_before + 1)) 10
python3 "$deals" --first 2 --count 1 >"$run/deal-2.tsv"
publish "$run/deal-2.tsv"
sent_2() { [ "$(deliveries_of resaleauthz-e2e-2)" = "hooks:2 hooks:2 journal:2 journal:2 mail:2 mail:2 " ] &&
  [ "$(mails_about resaleauthz-e2e-2)" = 2 ]; }
tap_ok "deal 2, published after it, is delivered per the OLD rules (2 mails, 2 journal lines, 2 hooks)" \
  wait_for "truth sent_2" 1 60

cat >"$run/rules.d/10-route.yaml" <<'YAML'
rules:
  - name: journal-only
    match:
      kind: [{exists: true}]
    receivers: [journal]
YAML
kill -HUP "$DAEMON_PID"
tap_ok "SIGHUP with fixed rules reloads them" wait_for "log_count 'reloaded path='" 1 20
python3 "$deals" --first 3 --count 1 >"$run/deal-3.tsv"
publish "$run/deal-3.tsv"
journal_has_3() { grep -c '"id":"resaleauthz-e2e-3"' "$run/journal.jsonl" || true; }
wait_for journal_has_3 2 60 || true
# The deliveries of a notification are created together, in one
# transaction: once the journal has them, the store shows all there is.
journal_only_3() {
  [ "$(deliveries_of resaleauthz-e2e-3)" = "journal:2 journal:2 " ] &&
    [ "$(mails_about resaleauthz-e2e-3)" = 0 ]
}
tap_ok "deal 3 goes to the journal only (deliveries: $(deliveries_of resaleauthz-e2e-3); mails: $(mails_about resaleauthz-e2e-3))" \
  journal_only_3

# ---- c. /metrics after the run -----------------------------------------------
# Every delivery of a and b has been sent once (nothing failed): the sent
# counter of each receiver must equal what its sink received.
wait_for "sql 'SELECT COUNT(*) FROM deliveries WHERE status = 2'" \
  "$(sql 'SELECT COUNT(*) FROM deliveries')" 30 || true
sent_match() {
  local rcv got want
  for rcv in mail journal hooks; do
    case $rcv in
    mail) want=$(mails) ;;
    journal) want=$(lines "$run/journal.jsonl") ;;
    hooks) want=$(hooks) ;;
    esac
    got=$(metric "cppo_deliveries_total{receiver=\"$rcv\",outcome=\"sent\"}")
    [ "$got" = "$want" ] && [ "$want" -gt 0 ] || return 1
  done
}
# The counter is added to right after the store records the attempt.
tap_ok "cppo_deliveries_total{receiver,outcome=\"sent\"} equals what each sink received ($(mails) mails, $(lines "$run/journal.jsonl") journal lines, $(hooks) webhook posts)" \
  wait_for "truth sent_match" 1 10
tap_comment "/metrics: cppo_deliveries_total sent mail=$(metric 'cppo_deliveries_total{receiver="mail",outcome="sent"}')\
 journal=$(metric 'cppo_deliveries_total{receiver="journal",outcome="sent"}')\
 hooks=$(metric 'cppo_deliveries_total{receiver="hooks",outcome="sent"}')"
kinds_match() { # every kind in the table has its counter, and the totals agree
  local kind n total=0 sum
  while IFS='|' read -r kind n; do
    [ "$(metric "cppo_notifications_total{kind=\"$kind\"}")" = "$n" ] || return 1
    total=$((total + n))
  done < <(store_sql "$db" 'SELECT kind, COUNT(*) FROM notifications GROUP BY kind')
  sum=$(curl -sf "http://127.0.0.1:$PORT/metrics" | awk '/^cppo_notifications_total\{/ { s += $2 } END { print s + 0 }')
  [ "$total" = 6 ] && [ "$sum" = "$total" ]
}
tap_ok "cppo_notifications_total by kind equals the notifications table ($(sql 'SELECT kind, COUNT(*) FROM notifications GROUP BY kind ORDER BY kind' | tr '|\n' '= '))" \
  kinds_match
stop_daemon() { # -> exit status in STATUS
  kill -TERM "$DAEMON_PID"
  STATUS=0
  wait "$DAEMON_PID" || STATUS=$?
}
stop_daemon
tap_ok "the daemon exits 0 on SIGTERM (status $STATUS)" [ "$STATUS" = 0 ]

# ---- d. SIGKILL during the dispatch of 500 deliveries per receiver ----------
# 250 deals, each a partner_offer_extended and a new_order, each to mail,
# hooks and journal: 1500 deliveries, 50 connections per receiver. smtp-sink
# waits 1 s before answering each DATA, and the webhook sink holds each
# answer 1 s after it has recorded the request: the 500 mails and 500 posts
# take about 10 s, and the kill lands while many are in flight. An
# in-flight mail has not been transmitted yet (it waits for DATA), an
# in-flight post has reached the sink but is not acknowledged: the
# deliveries a restart must send again.
peer_start_smtp_sink "$work/mail-d" --data-delay 1 2>>"$work/peers.log"
peer_start_webhook_sink "$work/hooks-d.jsonl" --delay 1 2>>"$work/peers.log"
hook_url "$work/hook-d-url" "$WEBHOOK_PORT"
run=$work/kill
db=$(test_store "$work/e2e-kill.db") || tap_bail "no store"
topic=e2e-kill
write_config "$run" "$SMTP_PORT" 50 "$work/hook-d-url"
cat >"$run/rules.d/10-route.yaml" <<'YAML'
rules:
  - name: all-three
    match:
      kind: [new_order, partner_offer_extended]
    receivers: [mail, hooks, journal]
YAML
python3 "$deals" --first 100 --count 250 --summary "$run/keys.txt" >"$run/deals.tsv"
start_daemon "$run"
publish "$run/deals.tsv"
sent_of() { sql "SELECT COUNT(*) FROM deliveries WHERE receiver = '$1' AND status = 2"; }
wait_for "sent_of hooks" 100 60 || true
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
status_counts() { # receiver -> "queued sending sent dead"
  local s
  for s in 0 1 2 3; do
    store_sql "$db" "SELECT COUNT(*) FROM deliveries WHERE receiver = '$1' AND status = $s"
  done | paste -sd ' '
}
declare -A inflight
for rcv in mail hooks journal; do
  read -r q sending sent dead < <(status_counts $rcv)
  inflight[$rcv]=$sending
  tap_comment "at the SIGKILL, $rcv: queued=$q sending=$sending sent=$sent dead=$dead"
done
total=$(sql 'SELECT COUNT(*) FROM deliveries')
not_done=$(sql 'SELECT COUNT(*) FROM deliveries WHERE status IN (0, 1)')
mid_dispatch() {
  [ "$total" = 1500 ] && [ "$not_done" -gt 0 ] && [ $((inflight[mail] + inflight[hooks])) -gt 0 ]
}
tap_ok "the SIGKILL came mid-dispatch ($not_done of $total deliveries not sent yet, ${inflight[mail]} mails and ${inflight[hooks]} posts in flight)" \
  mid_dispatch

start_daemon "$run"
all_sent() { sql 'SELECT COUNT(*) FROM deliveries WHERE status = 2'; }
wait_for all_sent 1500 90 || true
stop_daemon

# Arrivals per receiver and notification key: a mail counts when it is
# complete (its closing boundary is there), a post and a journal line when
# they parse. Every key at least once per receiver; duplicates per receiver
# no more than were SENDING at the kill.
python3 - "$run/keys.txt" "$work/mail-d" "$work/hooks-d.jsonl" "$run/journal.jsonl" \
  >"$run/figures" <<'PY' || true
import collections, json, os, re, sys

keys = set(open(sys.argv[1]).read().split())
got = {r: collections.Counter() for r in ("mail", "hooks", "journal")}
partial = 0
for name in os.listdir(sys.argv[2]):
    raw = open(os.path.join(sys.argv[2], name), "rb").read()
    k = re.search(rb"^X-CPPO-Notification-Key: (.*)$", raw, re.M)
    b = re.search(rb'boundary="([^"]+)"', raw)
    if k and b and b"--" + b.group(1) + b"--" in raw:
        got["mail"][k.group(1).decode()] += 1
    else:
        partial += 1
for line in open(sys.argv[3], encoding="utf-8"):
    m = re.search(r"cppo-notify, ([a-z_]+/[^,\"]+)", json.loads(line)["body"])
    if m:
        got["hooks"][m.group(1)] += 1
    else:
        partial += 1
for line in open(sys.argv[4], encoding="utf-8"):
    try:
        got["journal"][json.loads(line)["key"]] += 1
    except (ValueError, KeyError):
        partial += 1
for r, c in got.items():
    # receiver, keys expected, missing, unexpected, duplicates
    print(r, len(keys), len(keys - set(c)), len(set(c) - keys), sum(c.values()) - len(c))
print("partial", partial)
PY
sed 's/^/# arrivals (receiver keys missing unexpected duplicates): /' "$run/figures"
all_arrived=1
dups_ok=1
summary=""
while read -r rcv nkeys missing extra dups; do
  [ "$rcv" = partial ] && continue
  [ "$missing" = 0 ] && [ "$extra" = 0 ] || all_arrived=0
  [ "$dups" -le "${inflight[$rcv]}" ] || dups_ok=0
  summary="$summary $rcv $dups <= ${inflight[$rcv]},"
  tap_comment "$rcv: $nkeys deliveries, ${inflight[$rcv]} in flight at the kill, $dups duplicates"
done <"$run/figures"
arrived() { [ "$all_arrived" = 1 ] && [ "$(all_sent)" = 1500 ] && [ "$(wc -l <"$run/figures")" = 4 ]; }
tap_ok "after the restart every delivery arrived at least once: 500 mails, 500 posts, 500 journal lines ($(all_sent) of 1500 SENT)" \
  arrived
tap_ok "duplicates only for deliveries in flight at the kill (${summary%,})" [ "$dups_ok" = 1 ]
tap_ok "the restarted daemon exits 0 on SIGTERM (status $STATUS)" [ "$STATUS" = 0 ]
tap_ok "the store is the one CPPO_TEST_STORE asks for" store_backend_ok "$db"
tap_done
