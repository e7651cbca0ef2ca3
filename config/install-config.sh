#!/bin/sh
# install-config.sh SRC DEST FILE... — meson install script.
#
# Copies each FILE (a path relative to SRC) to DEST/FILE unless that file
# already exists: meson's install_data would overwrite, and an operator's
# configuration must survive a reinstall or an upgrade. DESTDIR (set by
# `meson install --destdir`) is honoured. Secrets get mode 0600.
set -eu
src=$1
dest=${DESTDIR:-}$2
shift 2
for f in "$@"; do
        target=$dest/$f
        if [ -e "$target" ]; then
                echo "Keeping existing $target"
                continue
        fi
        mode=0644
        case $f in secrets/*) mode=0600 ;; esac
        mkdir -p "$(dirname "$target")"
        install -m "$mode" "$src/$f" "$target"
        echo "Installing $f to $(dirname "$target")"
done
