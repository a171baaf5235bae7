#!/usr/bin/env bash
# Build the Debian package of the one-folder bundle.
#
#   packaging/linux/build_deb.sh [BUNDLE_DIR] [OUT_DIR]
#
# BUNDLE_DIR defaults to dist/medgrad-desktop (from `make bundle`), OUT_DIR to dist/.
# Installs the bundle under /opt/medgrad-desktop, a launcher /usr/bin/medgrad-desktop, a desktop
# entry and hicolor icons; `apt remove medgrad-desktop` removes all of it again (user data in
# ~/.local/share/MedGradDesktop is the user's and stays).
# DEB_COMPRESSION=gzip|xz|zstd (default gzip: much faster to build than xz, installs everywhere).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUNDLE="$(realpath "${1:-$ROOT/dist/medgrad-desktop}")"
OUT="$(realpath -m "${2:-$ROOT/dist}")"
NAME=medgrad-desktop
VERSION="$(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$ROOT/medgrad_desktop/__init__.py")"
ARCH="$(dpkg --print-architecture)"
DEB="$OUT/${NAME}_${VERSION}_${ARCH}.deb"

[[ -x "$BUNDLE/$NAME" ]] || { echo "error: no bundle at $BUNDLE (run 'make bundle')" >&2; exit 1; }
[[ -n "$VERSION" ]] || { echo "error: cannot read __version__" >&2; exit 1; }

STAGE="$(mktemp -d "${TMPDIR:-/tmp}/$NAME-deb.XXXXXX")"
trap 'rm -rf "$STAGE"' EXIT
PKG="$STAGE/root"

# Files
mkdir -p "$PKG/opt" "$PKG/usr/bin" "$PKG/usr/share/applications" "$PKG/DEBIAN"
cp -a "$BUNDLE" "$PKG/opt/$NAME"
cat > "$PKG/usr/bin/$NAME" <<LAUNCHER
#!/bin/sh
exec /opt/$NAME/$NAME "\$@"
LAUNCHER
install -m 0644 "$ROOT/packaging/linux/$NAME.desktop" "$PKG/usr/share/applications/$NAME.desktop"
for size in 16 32 48 64 128 256; do
    install -D -m 0644 "$ROOT/resources/icons/icon-$size.png" \
        "$PKG/usr/share/icons/hicolor/${size}x${size}/apps/$NAME.png"
done
find "$PKG" -type d -exec chmod 0755 {} +
chmod -R u+rw,go+r,go-w "$PKG/opt" "$PKG/usr"
chmod 0755 "$PKG/usr/bin/$NAME" "$PKG/opt/$NAME/$NAME"

# Metadata (Depends: the libraries Qt's xcb plugin needs, from medgrad_desktop/system_libraries.py;
# packaging/linux/check_xcb_depends.py checks the bundle against it with ldd)
DEPENDS="$(PYTHONPATH="$(dirname "$0")/../.." python3 -m medgrad_desktop.system_libraries --depends)"
INSTALLED_KB="$(du -sk --exclude=DEBIAN "$PKG" | cut -f1)"
cat > "$PKG/DEBIAN/control" <<CONTROL
Package: $NAME
Version: $VERSION
Architecture: $ARCH
Maintainer: MedGrad Desktop developers <medgrad-desktop@users.noreply.github.com>
Installed-Size: $INSTALLED_KB
Section: science
Priority: optional
Depends: $DEPENDS
Homepage: https://github.com/medgrad/medgrad-desktop
Description: review CLIP attribution maps of skin-lesion images
 MedGrad Desktop shows Grad-CAM, Grad-ECLIP and MedGrad-ECLIP attribution maps of
 dermoscopy images side by side, lets clinicians rate them in blinded sessions and
 fine-tunes CLIP models. Self-contained (Python, PyTorch and Qt are bundled).
 For research use only; not a medical device.
CONTROL

for script in postinst postrm; do
    cat > "$PKG/DEBIAN/$script" <<'HOOK'
#!/bin/sh
set -e
if command -v update-desktop-database >/dev/null 2>&1; then
    update-desktop-database -q /usr/share/applications || true
fi
if command -v gtk-update-icon-cache >/dev/null 2>&1; then
    gtk-update-icon-cache -q -t -f /usr/share/icons/hicolor || true
fi
HOOK
    chmod 0755 "$PKG/DEBIAN/$script"
done
cat >> "$PKG/DEBIAN/postrm" <<HOOK
if [ "\$1" = remove ] || [ "\$1" = purge ]; then
    rm -rf /opt/$NAME  # anything created at run time; dpkg has removed the packaged files
fi
HOOK
(cd "$PKG" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z \
    | xargs -0 md5sum > DEBIAN/md5sums)

mkdir -p "$OUT"
dpkg-deb --build --root-owner-group -Z"${DEB_COMPRESSION:-gzip}" "$PKG" "$DEB"
echo "$DEB"
