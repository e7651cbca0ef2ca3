#!/usr/bin/env bash
# cppo-notifyctl against a PostgreSQL store (store.url, store.password_file):
# a writable command creates the schema, check and rejected read it, --state
# takes the URL, and no output ever shows the password; a wrong password is
# refused naming the database without it. TAP.
# Usage: ctl-pg.sh CPPO_NOTIFYCTL   (needs CPPO_SOURCE_ROOT)
set -euo pipefail
source "$CPPO_SOURCE_ROOT/test/tools/peers.sh"
source "$CPPO_SOURCE_ROOT/test/tools/tap.sh"
ctl=$(realpath "$1")
work=$PEER_TMP
unset PGPASSWORD PGPASSFILE

peer_start_postgres
password=$(cat "$PG_PASSWORD_FILE")
config() { # password_file
  cat <<YAML
kafka:
  brokers: 127.0.0.1:9
  topics: [t]
store:
  url: $PG_URL
  password_file: $1
receivers:
  audit:
    type: file
    path: $work/audit.jsonl
YAML
}
config "$PG_PASSWORD_FILE" >"$work/c.yaml"
printf 'not-the-password\n' >"$work/wrong"
config "$work/wrong" >"$work/wrong.yaml"
all=""
run() { out=$("$ctl" "$@" 2>&1) && rc=0 || rc=$?; all+="$out"$'\n'; }

run rejected requeue 999 --config "$work/c.yaml"
tap_ok "a writable command opens (and creates) the store: no such input" \
  grep -q "999" <<<"$out"
run check --config "$work/c.yaml"
tap_is "check passes" "$rc" 0
tap_ok "check names the store by its URL, schema 9" \
  grep -qF "store $PG_URL: quick_check ok, schema 9" <<<"$out"
run rejected --config "$work/c.yaml"
tap_is "rejected on an empty store" "$rc:$out" "0:0 rejected inputs shown"
PGPASSWORD=$password run rejected --state "$PG_URL" --json
tap_is "--state takes the URL (password from libpq's PGPASSWORD)" "$rc:$out" "0:"
run rejected --config "$work/wrong.yaml"
tap_ok "a wrong password is refused" test "$rc" -ne 0
tap_ok "... naming the database" grep -qF "${PG_URL#postgresql://}" <<<"$out"
run check --state "postgresql://cppo:$password@${PG_URL#postgresql://cppo@}"
tap_is "a password in a --state URL opens it" "$rc" 0
tap_ok "... and is printed as ***" grep -qF "cppo:***@" <<<"$out"
tap_ok "no output shows the password" bash -c '! grep -qF -- "$1" <<<"$2"' _ "$password" "$all"
tap_done
