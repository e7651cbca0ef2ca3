#!/usr/bin/env bash
# Checks the generated systemd unit:
#   verify    `systemd-analyze verify` prints nothing (warnings only warn, with
#             rc 0, so the output itself must be empty)
#   security  `systemd-analyze security --offline=true` exposure <= 2.5
# Usage: check-unit.sh verify|security UNITFILE
set -euo pipefail
mode=$1 unit=$2
case "$mode" in
verify)
  out=$(systemd-analyze verify --man=no "$unit" 2>&1) || { echo "$out"; exit 1; }
  if [ -n "$out" ]; then
    echo "systemd-analyze verify printed:"; echo "$out"; exit 1
  fi
  echo "# verify: clean"
  ;;
security)
  out=$(systemd-analyze security --offline=true --threshold=25 "$unit" 2>&1) || { echo "$out"; exit 1; }
  level=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
  echo "# exposure: $level"
  [ -n "$level" ] && awk -v l="$level" 'BEGIN { exit !(l <= 2.5) }'
  ;;
*)
  echo "usage: $0 verify|security UNITFILE" >&2; exit 2 ;;
esac
