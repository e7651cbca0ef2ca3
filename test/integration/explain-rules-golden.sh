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
source "$CPPO_SOURCE_ROOT/test/tools/tap.sh"
ctl=$1 fx=$2
cfg="$fx/explain-config/cppo-notify.yaml"
secret=$(cat "$fx/explain-config/slack-url")
golden() { # input expected
  local out
  if ! out=$("$ctl" explain --config "$cfg" "$1"); then
    tap_comment "exit status $?"
    return 1
  fi
  if [[ "$out" == *"$secret"* ]]; then
    tap_comment "the webhook URL was printed"
    return 1
  fi
  [ "$out" = "$(cat "$2")" ] && return
  diff <(echo "$out") "$2" | head -40 | tap_comment
  return 1
}
for input in "$fx"/explain/*.in.jsonl; do
  name=$(basename "$input" .in.jsonl)
  tap_ok "$name" golden "$input" "$fx/explain-config/$name.expected.txt"
done
tap_ok story golden "$fx/explain-config/story.in.jsonl" "$fx/explain-config/story.expected.txt"
tap_ok "explain wrote no store" test ! -e "$fx/explain-config/state.db"
tap_done
