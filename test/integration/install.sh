#!/usr/bin/env bash
# `meson install --destdir` puts everything an operator needs in place, and a
# second install keeps the operator's configuration.
# Usage: install.sh BUILD_ROOT PREFIX SBINDIR BINDIR SYSCONFDIR MANDIR UNITDIR MAN(true|false)
set -euo pipefail
source "$CPPO_SOURCE_ROOT/test/tools/tap.sh"
build=$1 prefix=$2 sbindir=$3 bindir=$4 sysconfdir=$5 mandir=$6 unitdir=$7 man=$8
top=$(mktemp -d)
trap 'rm -rf "$top"' EXIT
dest=$top/root
# Absolute option values are used as they are, relative ones under the prefix.
under() { case $1 in /*) echo "$dest$1" ;; *) echo "$dest$prefix/$1" ;; esac; }
etc=$(under "$sysconfdir")/cppo-notify
all_files() { for f in "$@"; do [ -f "$f" ] || { tap_comment "missing $f"; return 1; }; done; }

install_once() { meson install -C "$build" --no-rebuild --quiet --destdir "$dest" >"$top/install.log" 2>&1 || { tap_comment <"$top/install.log"; return 1; }; }
tap_ok "meson install --destdir succeeds" install_once
tap_ok "both binaries" all_files "$(under "$sbindir")/cppo-notifyd" "$(under "$bindir")/cppo-notifyctl"
tap_ok "the configuration, its rules and the secret placeholder" all_files "$etc/cppo-notify.yaml" \
  "$etc/rules.d/10-new-orders.yaml" "$etc/rules.d/20-emea.yaml" "$etc/rules.d/30-attention.yaml" \
  "$etc/secrets/slack-webhook-url.example"
tap_ok "the systemd unit" all_files "$dest$unitdir/cppo-notify.service"
if [ "$man" = true ]; then
  m=$(under "$mandir")
  tap_ok "the man pages" all_files "$m/man8/cppo-notifyd.8" "$m/man8/cppo-notifyctl.8" "$m/man5/cppo-notify.yaml.5"
else
  tap_skip "the man pages" "scdoc is not installed"
fi

# The operator edits the config and removes a rules file; a reinstall keeps
# the edit and only puts back what is missing.
echo "# edited by the operator" >>"$etc/cppo-notify.yaml"
cp "$etc/cppo-notify.yaml" "$top/edited"
rm "$etc/rules.d/20-emea.yaml"
install_once
tap_ok "a second install keeps the modified configuration" cmp -s "$etc/cppo-notify.yaml" "$top/edited"
tap_ok "... and restores the missing rules file" cmp -s "$etc/rules.d/20-emea.yaml" \
  "$CPPO_SOURCE_ROOT/config/rules.d/20-emea.yaml"
tap_done
