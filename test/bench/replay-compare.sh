#!/bin/sh
# replay-compare.sh CTL_A CTL_B FILE...: replays the same JSON-lines files
# with two builds of cppo-notifyctl into fresh stores and compares what
# they made: the notifications --print wrote (key, kind, context), the
# summary line, and every table's rows (store-dump.sh: the ledger, the
# records, the notifications and the rejected inputs, wall-clock columns
# left out). For a change meant to make the same thing faster. Exit 0 when
# all is identical, 1 with a diff otherwise.
set -eu
a=${1:?usage: replay-compare.sh CTL_A CTL_B FILE...}
b=${2:?usage: replay-compare.sh CTL_A CTL_B FILE...}
shift 2
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d /tmp/replay-compare.XXXXXX)
trap 'rm -rf "$dir"' EXIT
for side in a b; do
        eval ctl=\$$side
        # exit 1 only says some input was rejected: the comparison says more
        "$ctl" replay --state "$dir/$side.db" --print "$@" >"$dir/$side.print" \
                2>"$dir/$side.err" || [ $? -eq 1 ]
        grep '^replay:' "$dir/$side.err" >"$dir/$side.summary"
        "$here/store-dump.sh" "$dir/$side.db" >"$dir/$side.dump"
done
status=0
for what in print summary dump; do
        if cmp -s "$dir/a.$what" "$dir/b.$what"; then
                echo "same $what ($(wc -l <"$dir/a.$what") lines)"
        else
                echo "DIFFERENT $what:"
                diff "$dir/a.$what" "$dir/b.$what" | cut -c1-300 | head -20
                status=1
        fi
done
exit $status
