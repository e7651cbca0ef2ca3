# tap.sh — TAP output for every shell test, one behaviour for all.
# Source it from a bash test:
#
#   source "$CPPO_SOURCE_ROOT/test/tools/tap.sh"
#   tap_ok "the daemon starts" wait_for ready 1 30   # ok if the command succeeds
#   tap_is "one hold" "$(holds)" 1                  # ok if the two strings are equal
#   tap_comment "seed $seed"                        # "# seed 42"
#   tap_done                                        # "1..N", exit status = failures
#
# The plan is counted, never written by hand: tap_done prints it at the end
# (TAP allows a trailing plan). A failure never stops the script, so one
# broken behaviour does not hide the others; a script that wants context on
# failure (a daemon log's tail, say) redefines tap_on_failure. Safe under
# set -euo pipefail: every command under test runs in an if.

tap_n=0
tap_failures=0

# Called with the failed test's name right after its "not ok" line; print
# context through tap_comment so that it stays valid TAP.
tap_on_failure() { :; }

# Prints each argument, or else each line of stdin, as a TAP comment.
tap_comment() {
  if [ "$#" -gt 0 ]; then
    printf '%s\n' "$@" | sed 's/^/# /'
  else
    sed 's/^/# /'
  fi
}

tap_pass() { # name
  tap_n=$((tap_n + 1))
  echo "ok $tap_n - $1"
}

tap_fail() { # name
  tap_n=$((tap_n + 1))
  tap_failures=$((tap_failures + 1))
  echo "not ok $tap_n - $1"
  tap_on_failure "$1" || true
}

tap_ok() { # name command...
  local name=$1
  shift
  if "$@"; then tap_pass "$name"; else tap_fail "$name"; fi
}

tap_is() { # name got want
  if [ "$2" = "$3" ]; then
    tap_pass "$1"
  else
    tap_fail "$1"
    tap_comment "got:  '$2'" "want: '$3'"
  fi
}

tap_skip() { # name reason
  tap_n=$((tap_n + 1))
  echo "ok $tap_n - $1 # SKIP $2"
}

# The whole script skipped (a missing optional tool): an empty plan.
tap_skip_all() { # reason
  echo "1..0 # SKIP $1"
  exit 0
}

# The script cannot go on (a peer did not start): TAP's bail out.
tap_bail() { # reason
  echo "Bail out! $1"
  exit 1
}

# True while nothing failed: for context printed once at the end.
tap_passing() { [ "$tap_failures" -eq 0 ]; }

# The exit status is the failure count, held under 256 (where it would wrap
# to a pass).
tap_done() {
  echo "1..$tap_n"
  exit $((tap_failures > 255 ? 255 : tap_failures))
}
