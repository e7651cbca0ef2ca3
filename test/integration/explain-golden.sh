#!/usr/bin/env bash
# Golden test: `cppo-notifyctl explain` on every fixture event (one JSON line
# each, from test/fixtures/aws-events, every envelope kind) prints
# exactly the reviewed expected output, and exits 0.
# Usage: explain-golden.sh CPPO_NOTIFYCTL FIXTURES_DIR
set -u
ctl=$1 dir=$2/explain
fail=0 n=0
for input in "$dir"/*.in.jsonl; do
  name=$(basename "$input" .in.jsonl)
  n=$((n + 1))
  if ! out=$("$ctl" explain "$input"); then
    echo "not ok $n - $name: exit status $?"; fail=1; continue
  fi
  if [ "$out" != "$(cat "$dir/$name.expected.jsonl")" ]; then
    echo "not ok $n - $name"; diff <(echo "$out") "$dir/$name.expected.jsonl" | sed 's/^/# /'; fail=1
  else
    echo "ok $n - $name"
  fi
done
echo "1..$n"
exit $fail
