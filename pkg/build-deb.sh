#!/bin/sh
# Builds roroot_<version>_all.deb from dist/roroot.js and pkg/debian/:
#   pkg/build-deb.sh VERSION OUTDIR
set -eu
version=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

install -D -m 0755 "$top/dist/roroot.js" "$stage/usr/lib/roroot/roroot.js"
install -D -m 0755 "$here/debian/roroot.sh" "$stage/usr/sbin/roroot"
# /sbin/roroot-init on a merged-/usr system (Debian 12 and later).
install -D -m 0755 "$top/patches/roroot-init.sh" "$stage/usr/sbin/roroot-init"
install -D -m 0755 "$here/debian/roroot-net.initramfs" "$stage/usr/share/initramfs-tools/scripts/local-premount/roroot-net"
for b in "$top"/board/*.conf; do install -D -m 0644 "$b" "$stage/usr/share/roroot/board/$(basename "$b")"; done
install -D -m 0644 "$here/debian/copyright" "$stage/usr/share/doc/roroot/copyright"
sed "s/@VERSION@/$version/" "$here/debian/changelog" | gzip -9n > "$stage/usr/share/doc/roroot/changelog.gz"
chmod 0644 "$stage/usr/share/doc/roroot/changelog.gz"

mkdir -p "$stage/DEBIAN"
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@SIZE@/$size/" "$here/debian/control.in" > "$stage/DEBIAN/control"
install -m 0755 "$here/debian/postinst" "$here/debian/prerm" "$here/debian/postrm" "$stage/DEBIAN/"
(cd "$stage" && find usr -type f -exec md5sum {} + | sort -k2 > DEBIAN/md5sums)
chmod 0644 "$stage/DEBIAN/control" "$stage/DEBIAN/md5sums"

mkdir -p "$out"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$out/roroot_${version}_all.deb" >/dev/null
echo "$out/roroot_${version}_all.deb"
