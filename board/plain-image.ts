import { execFileSync } from 'node:child_process';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import minimist from 'minimist';

// The reference image without roroot: the baseline that `make bench` (and
// the power-cut harness) compare against. A copy of the image from which
// the roroot package is purged with dpkg, which reverts the conversion as
// it would on any Debian system; then the root is mounted read-write the
// stock Debian way (fstab `rw`, checked at boot: pass 1, where roroot's
// read-only root has 0) and the kernel starts /sbin/init itself.
// Same kernel, same packages, same disk layout: the only difference is
// roroot. The scratch partition stays, unused.
// node build/board/plain-image.js --from X.img --out X-plain.img

const args = minimist(process.argv.slice(2), { string: ['from', 'out'] });
const from = resolve(args.from);
const out = resolve(args.out);
const say = (line: string) => process.stdout.write(`plain-image: ${line}\n`);

function main() {
  const t0 = Date.now();
  if (!existsSync(from)) throw new Error(`${from} is missing`);
  const tmp = `${out}.tmp`;
  execFileSync('cp', ['--sparse=always', from, tmp]);
  const loop = execFileSync('losetup', ['--find', '--show', '--partscan', tmp], { encoding: 'utf8' }).trim();
  try {
    execFileSync('partx', ['-u', loop]);
    // In a private mount namespace: nothing of this machine is touched.
    execFileSync(
      'unshare',
      [
        '--mount',
        '--propagation',
        'private',
        'sh',
        '-euc',
        `m=$(mktemp -d); mount -t ext4 ${loop}p1 $m
mount -t proc proc $m/proc; mount -t sysfs sysfs $m/sys; mount --rbind /dev $m/dev
chroot $m dpkg --purge roroot >/dev/null
sed -i 's#^\\(PARTUUID=[^ ]* / ext4 \\)ro,\\([^ ]*\\) 0 0$#\\1rw,\\2 0 1#' $m/etc/fstab
sed -i 's# init=/sbin/roroot-init##' $m/boot/extlinux/extlinux.conf
grep -q ' / ext4 rw,[^ ]* 0 1$' $m/etc/fstab
! grep -q roroot-init $m/boot/extlinux/extlinux.conf
! test -e $m/usr/lib/roroot/roroot.js
umount -R $m/dev; umount $m/sys $m/proc; umount $m`,
      ],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
  } finally {
    execFileSync('losetup', ['-d', loop]);
  }
  renameSync(tmp, out);
  say(`${out}: ${from} without roroot (dpkg --purge), root read-write, in ${Math.round((Date.now() - t0) / 1000)} s`);
}

try {
  main();
} catch (err) {
  rmSync(`${out}.tmp`, { force: true });
  process.stderr.write(`plain-image: ${(err as Error).message}\n`);
  process.exit(1);
}
