#!/usr/bin/env bash
# High availability, the roles (issue 15): two cppo-notifyd on one real
# PostgreSQL server and one mock Kafka cluster.
#   1. ha.enabled: true on a SQLite store is refused at path:line:col;
#   2. while another session holds the leader lock both daemons are
#      standbys: /healthz 200, /readyz 200 "role=standby", cppo_ha_leader 0,
#      READY=1 and STATUS=role=standby..., and no consumer;
#   3. once the lock is free exactly one takes the lead within ha.takeover
#      (one "role change role=leader" line, the epoch bumped), and the other
#      stays a standby;
#   4. the leader says so: /readyz "ready role=leader", cppo_ha_leader 1,
#      cppo_ha_epoch = the epoch in ha_leader, STATUS=role=leader epoch=N;
#   5. SIGTERM on the leader: exit 0, and the standby takes over.
# Usage: ha-roles.sh CPPO_NOTIFYD WITH_LIBSYSTEMD(true|false)
set -euo pipefail
source "$CPPO_SOURCE_ROOT/test/tools/peers.sh"
source "$CPPO_SOURCE_ROOT/test/tools/tap.sh"
daemon=$(realpath "$1")
with_systemd=$2
work=$PEER_TMP
key=7165350629952218226 # leader.h: LEADER_LOCK_KEY

sd_check() { # tap_ok, skipped without libsystemd
  if [ "$with_systemd" = true ]; then tap_ok "$@"; else tap_skip "$1" "built without libsystemd"; fi
}
tap_on_failure() {
  local i
  for i in a b; do
    tap_comment "daemon $i log (tail):"
    tail -15 "$work/$i.log" 2>/dev/null | tap_comment
  done
}

# ---- 1. refused on SQLite
peer_start_mock_kafka --brokers 1 --topic mp-events:2
daemon_test_config ha-roles "$work/state.db" "$work/audit.jsonl" >"$work/sqlite.yaml"
printf 'ha:\n  enabled: true\n' >>"$work/sqlite.yaml"
line=$(($(wc -l <"$work/sqlite.yaml") - 0))
rc=0
"$daemon" --config "$work/sqlite.yaml" 2>"$work/sqlite.err" || rc=$?
tap_is "ha.enabled: true on a SQLite store is a configuration error (exit 1)" "$rc" 1
tap_ok "... reported at path:line:col" \
  grep -q "sqlite.yaml:$line:12: ha.enabled: true needs a PostgreSQL store" "$work/sqlite.err"

# ---- the shared store and two instances
peer_start_postgres || tap_bail "no PostgreSQL server"
psql_() { PGPASSWORD=$(cat "$PG_PASSWORD_FILE") psql -qAtX "$PG_URL" "$@"; }
config() { # name
  daemon_test_config ha-roles @STORE@ "$work/$1-audit.jsonl" |
    sed "s|^  path: @STORE@\$|  url: $PG_URL\n  password_file: $PG_PASSWORD_FILE|" >"$work/$1.yaml"
  printf 'ha:\n  takeover: 10s\n  poll: 1s\n' >>"$work/$1.yaml"
}

# Another session holds the lock: both must wait.
holder_ready="$work/holder.ready"
(PGPASSWORD=$(cat "$PG_PASSWORD_FILE") exec psql -qAtX "$PG_URL" \
  -c "SELECT pg_advisory_lock($key)" -c "\\! touch $holder_ready" -c "SELECT pg_sleep(600)") \
  >/dev/null 2>&1 &
HOLDER_PID=$!
peer_track "$HOLDER_PID"
# wait_for runs its command under set -e: these never fail.
truth() { if "$@"; then echo 1; else echo 0; fi; }
wait_for "truth [ -e $holder_ready ]" 1 20 || tap_bail "the lock holder did not start"

logc() { grep -c "$2" "$work/$1.log" || true; }
declare -A PID PORT
start() { # name
  config "$1"
  : >"$work/$1.log"
  [ -S "$work/$1.sock" ] || peer_listen_sd_notify "$work/$1.sock" "$work/$1.notify"
  NOTIFY_SOCKET=$work/$1.sock "$daemon" --config "$work/$1.yaml" --log-level info \
    2>>"$work/$1.log" &
  PID[$1]=$!
  peer_track "${PID[$1]}"
  wait_for "logc $1 'http listening on'" 1 30
  PORT[$1]=$(sed -n 's/.*http listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/$1.log" | tail -1)
}
get() { curl -s "http://127.0.0.1:${PORT[$1]}$2" || true; }
code() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${PORT[$1]}$2" || true; }
metric() { get "$1" /metrics | awk -v m="$2" '$1 == m { v = $2 } END { print v + 0 }'; }
notified() { grep -cE "$2" "$work/$1.notify" 2>/dev/null || true; }
db_epoch() { psql_ -c 'SELECT epoch FROM ha_leader'; }

both_notified() { [ "$(notified $1 '^READY=1$')" -ge 1 ] && [ "$(notified $1 '^STATUS=role=standby')" -ge 1 ]; }
start a
start b
standbys() { echo $(($(logc a 'role change role=standby') + $(logc b 'role change role=standby'))); }
wait_for standbys 2 20 || true

# ---- 2. both standby
for i in a b; do
  tap_is "$i: /readyz is 200 role=standby while another holds the lock" \
    "$(code $i /readyz) $(get $i /readyz)" "200 role=standby"
  tap_is "$i: /healthz is 200" "$(code $i /healthz)" 200
  tap_is "$i: cppo_ha_leader 0, cppo_ha_epoch 0" "$(metric $i cppo_ha_leader) $(metric $i cppo_ha_epoch)" "0 0"
  sd_check "$i: READY=1 and STATUS=role=standby for systemd" \
    wait_for "truth both_notified $i" 1 10
  tap_is "$i: a standby runs no consumer" "$(logc $i 'consuming partitions')" 0
done
tap_is "the epoch did not move while both waited" "$(db_epoch)" 0

# ---- 3. the lock frees: exactly one leads
# (killing psql would not do: its backend, busy in pg_sleep, notices the
# closed socket only when the sleep ends)
psql_ -c "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'
          AND classid = 1668313199 AND objid = 762078322 AND granted" >/dev/null
t0=$(date +%s.%N)
leaders() { echo $(($(logc a 'role change role=leader') + $(logc b 'role change role=leader'))); }
tap_ok "one instance takes the lead within ha.takeover (10 s) of the lock freeing" \
  wait_for leaders 1 10
tap_comment "took $(python3 -c "import time; print(round(time.time() - $t0, 2))") s"
sleep 2 # the other's next polls
tap_ok "exactly one leads (the leader runs on: no second takeover)" [ "$(leaders)" = 1 ]
if [ "$(logc a 'role change role=leader')" = 1 ]; then L=a S=b; else L=b S=a; fi
tap_ok "the epoch was bumped once, to the one the leader logged" \
  [ "$(db_epoch)" = "$(sed -n 's/.*role change role=leader epoch=\([0-9]*\).*/\1/p' "$work/$L.log")" ]
tap_ok "the standby stays a standby (/readyz 200 role=standby)" \
  [ "$(code $S /readyz) $(get $S /readyz)" = "200 role=standby" ]

# ---- 4. the leader says so
leader_ready() { [ "$(get $L /readyz)" = "ready role=leader" ]; }
tap_ok "the leader's /readyz turns 'ready role=leader' once it consumes" \
  wait_for "truth leader_ready" 1 30
tap_ok "the leader consumes ('consuming partitions' logged once)" \
  [ "$(logc $L 'consuming partitions')" = 1 ]
tap_ok "cppo_ha_leader 1 and cppo_ha_epoch = ha_leader's epoch" \
  [ "$(metric $L cppo_ha_leader) $(metric $L cppo_ha_epoch)" = "1 $(db_epoch)" ]
if [ "$with_systemd" = true ]; then
  tap_ok "STATUS=role=leader epoch=N ..." \
    wait_for "notified $L '^STATUS=role=leader epoch=$(db_epoch) events/s='" 1 10
else
  tap_skip "STATUS=role=leader epoch=N ..." "built without libsystemd"
fi

# ---- 5. a clean stop hands over
before=$(db_epoch)
rc=0
kill -TERM "${PID[$L]}" 2>/dev/null || true
for _ in $(seq 1 150); do kill -0 "${PID[$L]}" 2>/dev/null || break; sleep 0.1; done
wait "${PID[$L]}" || rc=$?
tap_ok "SIGTERM stops the leader with exit 0" [ "$rc" = 0 ]
tap_ok "the standby takes over after the leader stopped" \
  wait_for "logc $S 'role change role=leader'" 1 15
tap_ok "... with the next epoch" [ "$(db_epoch)" -gt "$before" ]
tap_done
