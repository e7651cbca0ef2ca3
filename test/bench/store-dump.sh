#!/bin/sh
# store-dump.sh DB: every row of every table of a SQLite store as SQL
# literals (blobs in hex), in storage order (rowid or primary key), without
# the columns that hold the wall-clock time of the run (when a row was
# written, not what the input said). Two runs of `cppo-notifyctl replay`
# over the same input then dump the same bytes, whatever the speed of the
# code in between:
#   cmp <(store-dump.sh before.db) <(store-dump.sh after.db)
# Needs the sqlite3 shell.
set -eu
db=${1:?usage: store-dump.sh DB}
# table.column pairs that say when, by the clock on the wall
wall='schema_version.applied_at ledger.processed_at rejected.received_at inbox.created_at inbox.consumed_at'

tables=$(sqlite3 "$db" "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
for t in $tables; do
        cols=
        for c in $(sqlite3 "$db" "SELECT name FROM pragma_table_info('$t') ORDER BY cid"); do
                case " $wall " in *" $t.$c "*) continue ;; esac
                cols="${cols:+$cols, }\"$c\""
        done
        echo "-- $t ($cols)"
        sqlite3 -batch -cmd '.mode quote' "$db" "SELECT $cols FROM \"$t\""
done
