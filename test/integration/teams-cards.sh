#!/usr/bin/env bash
# Every built-in Teams card (every notification kind; realistic, test,
# every value null, hostile strings, oversized) validated with the npm
# adaptivecards library: Adaptive Card 1.5, no parse or validation event,
# under Teams' 28 KB, no value forming markdown or a link, truncation
# visible (test/node/validate-cards.js). TAP; SKIP when node or the
# library is missing (scripts/install-deps installs both).
# Usage: teams-cards.sh TEAMS_CARDS   (needs CPPO_SOURCE_ROOT)
set -uo pipefail
source "$CPPO_SOURCE_ROOT/test/tools/tap.sh"
modules="$CPPO_SOURCE_ROOT/test/node/node_modules"
if ! command -v node >/dev/null || [ ! -d "$modules/adaptivecards" ]; then
  tap_skip_all "node or the npm adaptivecards library is missing (run scripts/install-deps)"
fi
cards=$(mktemp)
trap 'rm -f "$cards"' EXIT
"$1" >"$cards" && rc=0 || rc=$?
tap_ok "every card renders" [ "$rc" -eq 0 ]
tap_is "30 cards (6 kinds x 5 contexts)" "$(wc -l <"$cards")" 30
out=$(node "$CPPO_SOURCE_ROOT/test/node/validate-cards.js" <"$cards") && rc=0 || rc=$?
tap_comment <<<"$out"
tap_ok "adaptivecards: every card parses and validates, 0 errors or warnings" [ "$rc" -eq 0 ]
size=$(LC_ALL=C awk -F'\t' '$1 ~ /^oversized-/ { if (length($2) > m) m = length($2) } END { print m }' "$cards")
tap_comment "largest oversized card: $size bytes"
tap_done
