#!/usr/bin/env bash
# The PostgreSQL test peer: a real server on 127.0.0.1 only, reachable with
# the password it wrote (and refused without it), run by an unprivileged
# user, stopped by PID with its files removed. TAP.
set -uo pipefail
source "$CPPO_SOURCE_ROOT/test/tools/peers.sh"
source "$CPPO_SOURCE_ROOT/test/tools/tap.sh"

peer_start_postgres
tap_ok "the server is ready with a URL" test -n "${PG_URL:-}"
port=${PG_URL##*:}
port=${port%%/*}
listening() { ss -ltnH "sport = :$port" | awk '{print $4}' | sort -u | tr '\n' ' '; }
tap_ok "it listens on 127.0.0.1 only" test "$(listening)" = "127.0.0.1:$port "
tap_ok "it does not run as root" test "$(ps -o user= -p "$PG_PID" | tr -d ' ')" != root
tap_ok "the password opens a session as cppo in database cppo" \
  test "$(PGPASSWORD=$(cat "$PG_PASSWORD_FILE") psql "$PG_URL" -XAtc 'SELECT current_user || current_database()')" = cppocppo
tap_ok "a wrong password is refused" \
  bash -c '! PGPASSWORD=wrong psql "$1" -XAtc "SELECT 1" >/dev/null 2>&1' _ "$PG_URL"
data_dir=$(dirname "$PG_PASSWORD_FILE")
kill -TERM "$PG_HELPER_PID"
for _ in $(seq 1 200); do kill -0 "$PG_HELPER_PID" 2>/dev/null || break; sleep 0.1; done
tap_ok "stopping the helper stops the server" bash -c '! kill -0 "$1" 2>/dev/null' _ "$PG_PID"
tap_ok "... and removes its files" test ! -e "$data_dir"
tap_done
