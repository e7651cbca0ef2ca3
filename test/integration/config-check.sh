#!/usr/bin/env bash
# `cppo-notifyctl check`: every bad configuration in test/fixtures/config/bad
# prints exactly its reviewed errors (path:line:col: message, source line,
# caret) and exits 1; the shipped example config and a minimal one pass with
# exit 0; a secret-looking property value never appears in the output.
# Usage: config-check.sh CPPO_NOTIFYCTL SOURCE_ROOT
set -u
ctl=$(realpath "$1") root=$2
n=0 fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
bad() { n=$((n + 1)); echo "not ok $n - $1"; fail=1; }

cd "$root/test/fixtures/config/bad" || exit 1
for f in *.yaml; do
  out=$("$ctl" check --config "$f"); rc=$?
  if [ $rc -eq 1 ] && [ "$out" = "$(cat "${f%.yaml}.expected")" ]; then ok "$f"; else
    bad "$f (exit $rc)"; diff <(echo "$out") "${f%.yaml}.expected" | sed 's/^/# /'
  fi
done

CPPO_KAFKA_BROKERS=127.0.0.1:9092 "$ctl" check --config "$root/config/cppo-notify.yaml" >/dev/null \
  && ok "config/cppo-notify.yaml" || bad "config/cppo-notify.yaml"
"$ctl" check --config "$root/test/fixtures/config/good-minimal.yaml" >/dev/null \
  && ok "good-minimal.yaml" || bad "good-minimal.yaml"

tmp=$(mktemp)
printf 'kafka:\n  brokers: a\n  topics: [t]\n  properties:\n    sasl.password: hunter2-s3cret\n' >"$tmp"
out=$("$ctl" check --config "$tmp" 2>&1)
case "$out" in *hunter2*) bad "secret printed by check";; *) ok "secret not printed";; esac
printf 'kafka:\n  brokers: a\n  topics: [t]\n  properties:\n    sasl.password: hunter2-s3cret\n  bogus: 1\n' >"$tmp"
out=$("$ctl" check --config "$tmp" 2>&1)
case "$out" in *hunter2*) bad "secret printed in an error";; *) ok "secret not printed in an error";; esac
rm -f "$tmp"
"$ctl" check --config /nonexistent.yaml >/dev/null; [ $? -eq 1 ] && ok "missing file exits 1" || bad "missing file"
"$ctl" check --bogus >/dev/null 2>&1; [ $? -eq 2 ] && ok "usage exits 2" || bad "usage"
echo "1..$n"
exit $fail
