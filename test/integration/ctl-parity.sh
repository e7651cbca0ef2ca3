#!/usr/bin/env bash
# Issue 15: cppo-notifyctl gives the same output on PostgreSQL as on SQLite.
# One stream (40 deals, a malformed line, an offer nobody can link) goes
# into a SQLite store and into a PostgreSQL database; then the same
# commands run on both, in the same order: replay (--print, --notify),
# deliveries (list, --json, --unrouted, show, retry), holds, authorization
# list/show, associate --apply, links, unlink, rejected, receivers, store
# prune (--dry-run and real), check. Each command's exit code and output
# must be equal once the store's name, the wall clock (times, ages) and
# what only one engine has are masked: `store stats` table sizes, the
# tables only one store has, and the pages a prune gives back (SQLite
# files only). TAP.
# Usage: ctl-parity.sh CPPO_NOTIFYCTL   (needs CPPO_SOURCE_ROOT)
set -uo pipefail
source "$CPPO_SOURCE_ROOT/test/tools/peers.sh"
source "$CPPO_SOURCE_ROOT/test/tools/tap.sh"
ctl=$(realpath "$1")
work=$PEER_TMP
KAFKA_BROKERS=127.0.0.1:9 # never contacted: replay and store commands need no Kafka
CPPO_TEST_STORE=pg test_store_init || tap_bail "no PostgreSQL"
rules_to_audit "$work"

python3 "$CPPO_SOURCE_ROOT/test/integration/deals.py" --first 0 --count 40 | cut -f2- >"$work/s.jsonl"
echo '{"not": json' >>"$work/s.jsonl"
held() { # offer-id: an Offer Released nobody can link, all at the same time
  printf '{"version":"0","id":"or-%s","detail-type":"Offer Released","source":"aws.marketplacecatalog","account":"111122223333","time":"2025-03-04T09:15:27Z","detail":{"offer":{"id":"%s"},"product":{"id":"prod-e2e0000000001"},"manufacturer":{"accountId":"111122223333"},"sellerOfRecord":{"accountId":"444455556666"},"targetedBuyerAccountIds":["123412341234"]}}\n' "$1" "$1"
}
# ids that sort differently by bytes and by a language's rules
for o in offer-par-held offer-Par-B offer-par-a offer-PAR-c; do held "$o"; done >>"$work/s.jsonl"

# (name, arguments) of each command; CFG is replaced by --config FILE
commands=(
  "replay|replay CFG --print $work/s.jsonl"
  "replay --notify|replay CFG --notify $work/s.jsonl"
  "deliveries|deliveries CFG"
  "deliveries --json|deliveries CFG --json"
  "deliveries --unrouted|deliveries CFG --unrouted --json"
  "deliveries show|deliveries show new_order/agmt-e2e-3/audit CFG"
  "deliveries show --json|deliveries show new_order/agmt-e2e-3/audit CFG --json"
  "holds|holds CFG"
  "holds --json|holds CFG --json"
  "authorization list|authorization list CFG"
  "authorization list --json|authorization list CFG --json"
  "authorization show|authorization show resaleauthz-e2e-3 CFG"
  "authorization show --json|authorization show resaleauthz-e2e-3 CFG --json"
  "associate --apply|associate CFG --offer offer-par-held --authorization resaleauthz-e2e-0 --force --reason parity --apply"
  "links|links offer-par-held CFG"
  "links --json|links offer-par-held CFG --json"
  "unlink --apply|unlink offer-par-held CFG --reason parity --apply"
  "holds after unlink|holds CFG"
  "rejected|rejected CFG"
  "rejected --json|rejected CFG --json"
  "receivers|receivers CFG"
  "receivers --json|receivers CFG --json"
  "store prune --dry-run|store prune CFG --dry-run --as-of 2040-01-01T00:00:00Z"
  "store prune|store prune CFG --as-of 2040-01-01T00:00:00Z"
  "deliveries retry --all-failed|deliveries retry --all-failed CFG"
  "check|check CFG"
)

# The wall clock, the store's name and what only one engine has, masked.
normalize() { # target
  sed -E -e "s#$1#STORE#g" -e "s#$work/(sqlite|pg)\.yaml#CONFIG#g" -e "s#$work#WORK#g" \
    -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z/TIME/g' \
    -e 's/"([a-z_]+_ms)":[0-9]{13}/"\1":MS/g' -e 's/"age_seconds":[0-9]+/"age_seconds":AGE/g' \
    -e '/^pages given back: /d'
}

run_all() { # store-kind target
  local cfg="$work/$1.yaml" c name args
  daemon_test_config parity "$2" "$work/$1-audit.jsonl" >"$cfg"
  echo "rules_dir: rules.d" >>"$cfg"
  mkdir -p "$work/$1"
  for c in "${commands[@]}"; do
    name=${c%%|*}
    args=${c#*|}
    # shellcheck disable=SC2086 # the arguments are split on purpose
    "$ctl" ${args/CFG/--config $cfg} >"$work/$1/${name// /_}" 2>&1
    echo "exit $?" >>"$work/$1/${name// /_}"
    normalize "$2" <"$work/$1/${name// /_}" >"$work/$1/${name// /_}.n"
  done
  "$ctl" store stats --config "$cfg" --json >"$work/$1/stats.json"
}

sqlite_db=$work/parity.db
# a database whose default collation is a language's (ICU en-US), not
# bytes: the commands must still list in SQLite's (byte) order
pg_db=${PG_URL%/*}/t_parity
psql -X -q -v ON_ERROR_STOP=1 -d "$PG_URL" -c "CREATE DATABASE t_parity TEMPLATE template0 \
  LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'" >/dev/null || tap_bail "no database"
run_all sqlite "$sqlite_db"
run_all pg "$pg_db"

for c in "${commands[@]}"; do
  name=${c%%|*}
  f=${name// /_}
  if cmp -s "$work/sqlite/$f.n" "$work/pg/$f.n"; then
    tap_pass "$name: the same exit code and output on both stores"
  else
    tap_fail "$name: the same exit code and output on both stores"
    diff "$work/sqlite/$f.n" "$work/pg/$f.n" | head -10 | tap_comment
  fi
done
tap_ok "the commands did something (deliveries counted 80 in the store)" \
  grep -q "in the store: 0 queued, 0 sending, 0 sent, 0 dead, 80 backfilled" "$work/pg/deliveries.n"
rows() { # kind: "table rows" of the tables both stores keep, sorted
  python3 -c '
import json, sys
skip = {"schema_version", "ha_leader", "(free)"}  # one row per migration on SQLite; HA on PG only
d = json.load(open(sys.argv[1]))
print("\n".join(sorted("%s %d" % (t["table"], t["rows"]) for t in d["tables"] if t["table"] not in skip)))
' "$work/$1/stats.json"
}
tap_is "store stats: the same row counts in every table" "$(rows pg)" "$(rows sqlite)"
tap_is "the database's own collation is not byte order (else the order checks prove nothing)" \
  "$(store_sql "$pg_db" "SELECT string_agg(x, ' ' ORDER BY x) FROM (VALUES ('offer-Par-B'), ('offer-par-a')) v(x)")" \
  "offer-par-a offer-Par-B"
offers_in() { grep -o '"offer_id":"offer-[A-Za-z-]*"' "$1" | cut -d'"' -f4 | paste -sd ' '; }
tap_is "holds lists ties in byte order on PostgreSQL too" "$(offers_in "$work/pg/holds_--json.n")" \
  "offer-PAR-c offer-Par-B offer-par-a offer-par-held"
tap_ok "the PostgreSQL run really was on PostgreSQL (its notifications table holds 81 rows)" \
  test "$(store_sql "$pg_db" 'SELECT COUNT(*) FROM notifications')" -eq 81
tap_ok "and the SQLite run on its file" test -f "$sqlite_db"
tap_done
