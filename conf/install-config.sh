#!/bin/sh
# Run by `meson install`: copy the example configuration to
# DIR/pghealthd.ini (under $DESTDIR) unless a configuration is there already.
#
#   install-config.sh EXAMPLE DIR
set -eu

src=$1
dest=${DESTDIR:-}$2/pghealthd.ini

if [ -n "${MESON_INSTALL_DRY_RUN:-}" ]; then
	exit 0
fi
if [ -e "$dest" ]; then
	[ -n "${MESON_INSTALL_QUIET:-}" ] || echo "Keeping $dest"
	exit 0
fi
mkdir -p "$(dirname "$dest")"
cp "$src" "$dest.tmp"
chmod 0644 "$dest.tmp"
mv "$dest.tmp" "$dest"
[ -n "${MESON_INSTALL_QUIET:-}" ] || echo "Installing $dest"
