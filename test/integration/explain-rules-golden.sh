#!/usr/bin/env bash
# Golden test of `cppo-notifyctl explain --config`: for every fixture event
# (test/fixtures/explain/*.in.jsonl, one per AWS fixture and envelope kind)
# and for a whole CPPO story (explain-config/story.in.jsonl), the decoded
# event, the notifications it creates against an empty state, the rules
# they match and the exact e-mail, Slack and file payloads per receiver
# equal the reviewed expected output. Also: the Slack webhook URL (a secret)
# never appears in the output, and explain writes no store.
# Usage: explain-rules-golden.sh CPPO_NOTIFYCTL FIXTURES_DIR
set -u
ctl=$1 fx=$2
cfg="$fx/explain-config/cppo-notify.yaml"
secret=$(cat "$fx/explain-config/slack-url")
fail=0 n=0
check() { # name input expected
  n=$((n + 1))
  local out
  if ! out=$("$ctl" explain --config "$cfg" "$2"); then
    echo "not ok $n - $1: exit status $?"; fail=1; return
  fi
  if [[ "$out" == *"$secret"* ]]; then
    echo "not ok $n - $1: the webhook URL was printed"; fail=1
  elif [ "$out" != "$(cat "$3")" ]; then
    echo "not ok $n - $1"; diff <(echo "$out") "$3" | head -40 | sed 's/^/# /'; fail=1
  else
    echo "ok $n - $1"
  fi
}
for input in "$fx"/explain/*.in.jsonl; do
  name=$(basename "$input" .in.jsonl)
  check "$name" "$input" "$fx/explain-config/$name.expected.txt"
done
check story "$fx/explain-config/story.in.jsonl" "$fx/explain-config/story.expected.txt"
n=$((n + 1))
if [ -e "$fx/explain-config/state.db" ]; then
  echo "not ok $n - explain created the store"; fail=1
else
  echo "ok $n - explain wrote no store"
fi
echo "1..$n"
exit $fail
