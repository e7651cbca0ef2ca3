# peers.sh — start test peers, wait until they are ready, always stop them.
# Source it from a bash test:
#
#   source "$CPPO_SOURCE_ROOT/test/tools/peers.sh"
#   peer_start_mock_kafka --topic mp:3        # sets KAFKA_BROKERS, KAFKA_CTL (fd), KAFKA_PID
#   peer_start_smtp_sink "$dir/mail"          # sets SMTP_PORT, SMTP_PID
#   peer_start_webhook_sink "$dir/hooks.jsonl" # sets WEBHOOK_PORT, WEBHOOK_PID
#   peer_start_postgres                       # sets PG_URL, PG_PASSWORD_FILE, PG_PID
#   test_store_init; db=$(test_store "$dir/state.db") # SQLite, or PG if CPPO_TEST_STORE=pg
#   peer_track PID                            # stop this process on exit too
#   wait_for 'ls "$dir/mail" | wc -l' 3 20    # until the command prints >= 3, at most 20 s
#
# Every started process is recorded; an EXIT trap stops them all by PID
# (SIGTERM, then SIGKILL after 5 s), whether the test passed or failed.
# Needs MOCK_KAFKA (path of the built mock-kafka) in the environment.

PEER_PIDS=()
PEER_TMP=$(mktemp -d)

peer_track() { PEER_PIDS+=("$1"); }

peer_stop_all() { # never fails: it runs from the EXIT trap, under set -e
  local pid
  for pid in "${PEER_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PEER_PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  PEER_PIDS=()
  rm -rf "$PEER_TMP" || true
}
trap 'peer_rc=$?; peer_stop_all; exit $peer_rc' EXIT

# Reads the first line a peer prints (its ready line) within a timeout.
peer_ready_line() { # fifo timeout_s
  local line
  if ! IFS= read -r -t "$2" line <"$1"; then
    echo "peers.sh: peer not ready within $2 s" >&2
    return 1
  fi
  printf '%s\n' "$line"
}

peer_start_mock_kafka() { # mock-kafka options
  local out="$PEER_TMP/kafka.out" ctl="$PEER_TMP/kafka.ctl"
  mkfifo "$ctl"
  "${MOCK_KAFKA:?MOCK_KAFKA is not set}" "$@" <"$ctl" >"$out" &
  KAFKA_PID=$!
  peer_track "$KAFKA_PID"
  exec {KAFKA_CTL}>"$ctl" # keeps the cluster's stdin open; write commands to it
  for _ in $(seq 1 100); do [ -s "$out" ] && break; sleep 0.1; done
  KAFKA_BROKERS=$(head -1 "$out")
  [ -n "$KAFKA_BROKERS" ] || { echo "peers.sh: mock-kafka did not start" >&2; return 1; }
  KAFKA_OUT=$out
}

kafka_control() { # "down 1" -> waits for the answer line
  local before
  before=$(wc -l <"$KAFKA_OUT")
  echo "$1" >&"$KAFKA_CTL"
  for _ in $(seq 1 50); do
    [ "$(wc -l <"$KAFKA_OUT")" -gt "$before" ] && { tail -1 "$KAFKA_OUT"; return 0; }
    sleep 0.1
  done
  echo "peers.sh: no answer to '$1'" >&2
  return 1
}

peer_start_smtp_sink() { # dir [--rcpt-4xx] [--data-5xx]
  local fifo="$PEER_TMP/smtp.$RANDOM" line
  mkfifo "$fifo"
  "$CPPO_SOURCE_ROOT/test/tools/smtp-sink.sh" "$@" >"$fifo" &
  SMTP_PID=$!
  peer_track "$SMTP_PID"
  line=$(peer_ready_line "$fifo" 10) || return 1
  SMTP_PORT=${line#ready }
}

peer_start_webhook_sink() { # record-file [options]
  local fifo="$PEER_TMP/hook.$RANDOM" line
  mkfifo "$fifo"
  python3 "$CPPO_SOURCE_ROOT/test/tools/webhook-sink.py" --record "$@" >"$fifo" &
  WEBHOOK_PID=$!
  peer_track "$WEBHOOK_PID"
  line=$(peer_ready_line "$fifo" 10) || return 1
  WEBHOOK_PORT=${line#ready }
}

# A real PostgreSQL server (test/tools/pg-server.py): a fresh cluster on
# 127.0.0.1 and a free port, stopped by PID with the other peers.
peer_start_postgres() { # [pg-server.py options]
  local out="$PEER_TMP/pg.out" in="$PEER_TMP/pg.in" line
  mkfifo "$in"
  python3 "$CPPO_SOURCE_ROOT/test/tools/pg-server.py" "$@" <"$in" >"$out" 2>&1 &
  PG_HELPER_PID=$!
  peer_track "$PG_HELPER_PID"
  exec {PG_STDIN}>"$in" # the server lives while this stays open
  for _ in $(seq 1 600); do
    grep -q '^ready ' "$out" 2>/dev/null && break
    kill -0 "$PG_HELPER_PID" 2>/dev/null || break
    sleep 0.1
  done
  line=$(grep '^ready ' "$out" | head -1)
  [ -n "$line" ] || { echo "peers.sh: postgres did not start: $(tail -5 "$out")" >&2; return 1; }
  read -r _ PG_URL PG_PASSWORD_FILE PG_PID <<<"$line"
}

# The store a test runs on: SQLite files (the default) or, with
# CPPO_TEST_STORE=pg (the "-pg" test variants), databases on a real
# PostgreSQL server the test starts itself. Call test_store_init once, in
# the test's own shell (it starts the server there, not in a subshell);
# then test_store PATH names a store: PATH on SQLite, on PostgreSQL a fresh
# database named after PATH's file name (one call per store). PGPASSWORD is
# exported so that `--state URL`, psql and store_sql need nothing more.
test_store_init() {
  case "${CPPO_TEST_STORE:-sqlite}" in
  sqlite) ;;
  pg)
    peer_start_postgres || return 1
    PGPASSWORD=$(cat "$PG_PASSWORD_FILE") || return 1
    export PGPASSWORD
    ;;
  *) echo "peers.sh: CPPO_TEST_STORE=$CPPO_TEST_STORE: sqlite or pg" >&2; return 1 ;;
  esac
}

test_store() { # path
  [ "${CPPO_TEST_STORE:-sqlite}" = pg ] || { printf '%s\n' "$1"; return 0; }
  local name
  name=$(basename "$1" .db)
  name=t_${name//[^a-zA-Z0-9_]/_}
  psql -X -q -v ON_ERROR_STOP=1 -d "$PG_URL" -c "CREATE DATABASE $name" >/dev/null || return 1
  printf '%s/%s\n' "${PG_URL%/*}" "$name"
}

store_yaml() { # target: the store section of a config
  case "$1" in
  postgresql://*) printf 'store:\n  url: %s\n  password_file: %s\n' "$1" "$PG_PASSWORD_FILE" ;;
  *) printf 'store:\n  path: %s\n' "$1" ;;
  esac
}

# One query on either store, rows on stdout as sqlite3 prints them (columns
# separated by |). Write portable SQL: no boolean arithmetic, no 0/1 for
# BOOLEAN columns.
store_sql() { # target sql
  case "$1" in
  postgresql://*) psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$1" -c "$2" ;;
  *) sqlite3 "$1" "$2" ;;
  esac
}

# True when TARGET is the kind of store CPPO_TEST_STORE asks for and holds
# the schema: on PostgreSQL, also that no SQLite file was made in the test's
# directory (a test that silently fell back to SQLite must fail).
store_backend_ok() { # target
  local n
  n=$(store_sql "$1" "SELECT COUNT(*) FROM inbox") || return 1
  [ -n "$n" ] || return 1
  if [ "${CPPO_TEST_STORE:-sqlite}" = pg ]; then
    [[ "$1" == postgresql://* ]] || return 1
    [ -z "$(find "$PEER_TMP" -name '*.db' -o -name '*.db-wal' | head -1)" ]
  else
    [ -f "$1" ]
  fi
}

# A cppo-notifyd config for tests, on stdout: the mock cluster's brokers,
# topic mp-events, the given group, the consumer settings the mock needs
# (librdkafka 2.0.2's mock: a session timeout above its 3 s initial
# rebalance delay, short reconnect backoff) and small fetches (so a stream
# takes long enough to be cut), a store (a path or a test_store URL), a
# file receiver "audit" and an HTTP port chosen by the kernel.
# The kafka section every daemon test uses: the mock cluster, topic
# mp-events, consumer group GROUP, timeouts short enough for kill tests.
kafka_test_yaml() { # group
  cat <<YAML
kafka:
  brokers: $KAFKA_BROKERS
  topics: [mp-events]
  group: $1
  properties:
    session.timeout.ms: "6000"
    heartbeat.interval.ms: "500"
    reconnect.backoff.max.ms: "1000"
    max.partition.fetch.bytes: "8192"
    fetch.max.bytes: "65536"
    message.max.bytes: "65536"
YAML
}

# The service manager's side of sd_notify on SOCKET: one datagram, one line
# of LOG (its newlines as spaces); returns once the socket exists.
peer_listen_sd_notify() { # socket log
  python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as f:
    while True:
        f.write(s.recv(4096).decode().replace("\n", " ") + "\n")
        f.flush()
' "$1" "$2" &
  peer_track $!
  for _ in $(seq 1 50); do [ -S "$1" ] && break; sleep 0.1; done
}

# Callers append sections (rules_dir, holds, ...) after it.
daemon_test_config() { # group store_target audit_jsonl
  kafka_test_yaml "$1"
  cat <<YAML
$(store_yaml "$2")
receivers:
  audit:
    type: file
    path: $3
http:
  listen: 127.0.0.1:0
YAML
}

# rules.d/10-all.yaml in DIR: every notification to the receiver audit,
# the one daemon_test_config defines.
rules_to_audit() { # dir
  mkdir -p "$1/rules.d"
  cat >"$1/rules.d/10-all.yaml" <<'YAML'
rules:
  - name: everything
    match: {kind: [{exists: true}]}
    receivers: [audit]
YAML
}

wait_for() { # command expected_min timeout_s
  local n
  for _ in $(seq 1 $(($3 * 10))); do
    n=$(eval "$1" 2>/dev/null)
    [ "${n:-0}" -ge "$2" ] 2>/dev/null && return 0
    sleep 0.1
  done
  echo "peers.sh: '$1' reached ${n:-0}, wanted $2 within $3 s" >&2
  return 1
}
