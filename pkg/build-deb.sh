#!/bin/sh
# Builds roroot_<version>_<arch>.deb from dist/roroot.js, the login EROFS
# shim (built by make) and pkg/debian/:
#   pkg/build-deb.sh VERSION OUTDIR SHIM.so
set -eu
version=$1
out=$2
shim=$3
# The shim is machine code: the package is for this architecture.
arch=$(dpkg --print-architecture)
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

install -D -m 0755 "$top/dist/roroot.js" "$stage/usr/lib/roroot/roroot.js"
install -D -m 0644 "$top/dist/roroot-snapshot.js" "$stage/usr/lib/roroot/roroot-snapshot.js"
install -D -m 0755 "$here/debian/roroot.sh" "$stage/usr/sbin/roroot"
install -D -m 0644 "$top/patches/snapshot-check.sh" "$stage/usr/lib/roroot/snapshot-check.sh"
# /sbin/roroot-init on a merged-/usr system (Debian 12 and later).
install -D -m 0755 "$top/patches/roroot-init.sh" "$stage/usr/sbin/roroot-init"
install -D -m 0644 "$shim" "$stage/usr/lib/roroot/login-erofs-shim.so"
strip --strip-unneeded "$stage/usr/lib/roroot/login-erofs-shim.so"
install -D -m 0755 "$top/patches/login-wrapper.sh" "$stage/usr/lib/roroot/login"
install -D -m 0755 "$here/debian/roroot-net.initramfs" "$stage/usr/share/initramfs-tools/scripts/local-premount/roroot-net"
install -D -m 0644 "$here/debian/roroot-commit.service" "$stage/usr/lib/systemd/system/roroot-commit.service"
mkdir -p "$stage/usr/lib/systemd/system/multi-user.target.wants"
ln -s ../roroot-commit.service "$stage/usr/lib/systemd/system/multi-user.target.wants/roroot-commit.service"
for b in "$top"/board/*.conf; do install -D -m 0644 "$b" "$stage/usr/share/roroot/board/$(basename "$b")"; done
install -D -m 0644 "$here/debian/copyright" "$stage/usr/share/doc/roroot/copyright"
sed "s/@VERSION@/$version/" "$here/debian/changelog" | gzip -9n > "$stage/usr/share/doc/roroot/changelog.gz"
chmod 0644 "$stage/usr/share/doc/roroot/changelog.gz"

mkdir -p "$stage/DEBIAN"
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@SIZE@/$size/" -e "s/@ARCH@/$arch/" "$here/debian/control.in" > "$stage/DEBIAN/control"
install -m 0755 "$here/debian/postinst" "$here/debian/prerm" "$here/debian/postrm" "$stage/DEBIAN/"
install -m 0644 "$here/debian/triggers" "$stage/DEBIAN/"
(cd "$stage" && find usr -type f -exec md5sum {} + | sort -k2 > DEBIAN/md5sums)
chmod 0644 "$stage/DEBIAN/control" "$stage/DEBIAN/md5sums"

mkdir -p "$out"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$out/roroot_${version}_${arch}.deb" >/dev/null
echo "$out/roroot_${version}_${arch}.deb"
