#!/usr/bin/env bash
# Golden test: `cppo-notifyctl explain` on every fixture event (one JSON line
# each, from test/fixtures/aws-events, every envelope kind) prints
# exactly the reviewed expected output, and exits 0.
# Usage: explain-golden.sh CPPO_NOTIFYCTL FIXTURES_DIR
set -u
source "$CPPO_SOURCE_ROOT/test/tools/tap.sh"
ctl=$1 dir=$2/explain
golden() { # input expected
  local out
  if ! out=$("$ctl" explain "$1"); then
    tap_comment "exit status $?"
    return 1
  fi
  [ "$out" = "$(cat "$2")" ] && return
  diff <(echo "$out") "$2" | tap_comment
  return 1
}
for input in "$dir"/*.in.jsonl; do
  name=$(basename "$input" .in.jsonl)
  tap_ok "$name" golden "$input" "$dir/$name.expected.jsonl"
done
tap_done
