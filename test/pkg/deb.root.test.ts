import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_CACHE, rootfsTarball } from '../../board/rootfs';
import { listingPipeline } from '../support/system-tree';

// The Debian package: lintian has no errors, it holds what it should, and
// dpkg -i + dpkg -r on a real Debian tree (the image's root filesystem, in
// a chroot) leaves the tree as it was.

const t = suite('pkg/roroot.deb (root)');
const REPO = resolve(__dirname, '../../..');
const VERSION = require(join(REPO, 'package.json')).version as string;
let dir: string;
let deb: string;

t.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'roroot-deb-'));
  deb = execFileSync(join(REPO, 'pkg/build-deb.sh'), [VERSION, dir, join(REPO, 'build/patches/login-erofs-shim.so')], { encoding: 'utf8' }).trim();
});
t.after(() => rmSync(dir, { recursive: true, force: true }));

t('lintian: no errors; the files a router needs', () => {
  const lint = execFileSync('sh', ['-c', `lintian --no-tag-display-limit ${deb} 2>/dev/null; true`], { encoding: 'utf8' });
  assert.equal(lint.split('\n').filter((l) => l.startsWith('E:')), [], lint);
  const files = execFileSync('dpkg-deb', ['-c', deb], { encoding: 'utf8' });
  for (const f of ['./usr/lib/roroot/roroot.js', './usr/sbin/roroot', './usr/sbin/roroot-init', './usr/share/initramfs-tools/scripts/local-premount/roroot-net', './usr/share/roroot/board/qemu-x86_64.conf', './usr/lib/roroot/login-erofs-shim.so', './usr/lib/roroot/login']) {
    assert.ok(files.includes(` ${f}\n`), f);
  }
});

// The image's root filesystem, unpacked for one test, as an installed
// system has it (`bootable`): a line for / in fstab and a bootloader whose
// kernel command line roroot can give init=.
function debianTree(name: string, bootable = true): { tree: string; chrooted: (cmd: string) => string; listing: () => string } {
  const tree = join(dir, name);
  mkdirSync(tree);
  execFileSync('tar', ['-C', tree, '--numeric-owner', '-xpf', rootfsTarball(DEFAULT_CACHE, () => {})]);
  if (bootable) {
    writeFileSync(join(tree, 'etc/fstab'), '/dev/sda1 / ext4 errors=remount-ro 0 1\n');
    mkdirSync(join(tree, 'boot/extlinux'), { recursive: true });
    writeFileSync(join(tree, 'boot/extlinux/extlinux.conf'), 'DEFAULT linux\nLABEL linux\n  KERNEL /vmlinuz\n  INITRD /initrd.img\n  APPEND root=/dev/sda1 ro console=ttyS0\n');
  }
  copyFileSync(deb, join(tree, 'root/roroot.deb'));
  // What dpkg and update-initramfs own and rewrite on every run (their
  // databases, their logs, the regenerated initrd) is left out of the comparison.
  const excluded = ['./var/lib/dpkg/*', './var/log/dpkg.log', './boot/initrd.img-*', './var/lib/initramfs-tools/*'];
  const listing = () => execFileSync('sh', ['-c', `cd ${tree} && ${listingPipeline(excluded)} | LC_ALL=C sort`], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const chrooted = (cmd: string) =>
    execFileSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-euc', `mount -t proc proc ${tree}/proc; mount -t sysfs sysfs ${tree}/sys; mount --rbind /dev ${tree}/dev; chroot ${tree} ${cmd}`], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  return { tree, chrooted, listing };
}

t('dpkg -i converts a Debian system, dpkg -r puts it back exactly', () => {
  const { chrooted, listing } = debianTree('rootfs');
  const before = listing();
  const installed = chrooted('dpkg -i /root/roroot.deb');
  assert.match(installed, /install: \/var\/log moved into \/var\/lib\/roroot\/volatile\.ini/);
  const during = listing();
  assert.ok(during.includes('\nvar/log|l|777|0:0|32|/var/lib/roroot/volatile/var/log\n'));
  assert.ok(during.includes('\nusr/share/initramfs-tools/scripts/local-premount/roroot-net|f|755|0:0|'));
  assert.ok(during.includes('\nusr/bin/login|f|755|0:0|'), 'devtmpfs board: login left alone');
  const removed = chrooted('dpkg -r roroot');
  assert.match(removed, /uninstall: \/var\/log moved back/);
  assert.is(listing(), before, 'after dpkg -r the tree is as before dpkg -i');
});

t('static /dev (DEVTMPFS=no): login diverted to the shim wrapper, and restored on removal', () => {
  const { tree, chrooted, listing } = debianTree('rootfs-static-dev');
  writeFileSync(join(tree, 'etc/roroot.conf'), 'DEVTMPFS=no\n');
  const before = listing();
  const installed = chrooted('dpkg -i /root/roroot.deb');
  assert.match(installed, /install: \/bin\/login -> \/usr\/lib\/roroot\/login \(static \/dev/);
  const during = listing();
  assert.ok(during.includes('\nusr/bin/login|l|777|0:0|21|/usr/lib/roroot/login\n'), during.split('\n').filter((l) => l.includes('login')).join('\n'));
  assert.ok(during.includes('\nusr/bin/login.roroot-real|f|755|0:0|'), 'the real login, renamed by dpkg-divert');
  assert.match(chrooted('dpkg-divert --list /bin/login'), /diversion of \/bin\/login to \/bin\/login\.roroot-real by roroot/);
  assert.match(chrooted('dpkg -S /bin/login'), /diversion by roroot from: \/bin\/login/);
  assert.is(chrooted('ls -l /usr/lib/roroot/login-erofs-shim.so').split(' ')[0], '-rw-r--r--');
  const removed = chrooted('dpkg -r roroot');
  assert.match(removed, /uninstall: \/bin\/login restored/);
  assert.is(chrooted('dpkg-divert --list /bin/login'), '');
  assert.is(listing(), before, 'after dpkg -r the tree is as before dpkg -i');
});

t('dpkg -i on a system that would not boot read-only (no bootloader to give init=, no / in fstab, READONLY=no): refused, nothing converted', () => {
  const { tree, chrooted, listing } = debianTree('rootfs-unbootable', false);
  const before = listing();
  const r = () => {
    try {
      chrooted('dpkg -i /root/roroot.deb');
      return 'installed';
    } catch (err) {
      return String((err as { stdout?: string }).stdout) + String((err as { stderr?: string }).stderr);
    }
  };
  assert.match(r(), /install: refusing, nothing changed: \/etc\/fstab has no line for \/: nothing would mount the root read-only/);
  const unconverted = (l: string) => l.split('\n').filter((x) => /^(var\/log|tmp|etc\/mtab|etc\/roroot\.conf)\|/.test(x));
  assert.equal(unconverted(listing()), unconverted(before), 'no directory moved, no file edited');
  writeFileSync(join(tree, 'etc/fstab'), '/dev/sda1 / ext4 defaults 0 1\n');
  assert.match(r(), /install: refusing, nothing changed: no bootloader roroot can update \(no APPEND line in \/boot\/extlinux\/extlinux\.conf, no \/boot\/grub\/grub\.cfg\)/);
  mkdirSync(join(tree, 'boot/grub'), { recursive: true });
  writeFileSync(join(tree, 'boot/grub/grub.cfg'), '# made by grub-mkconfig\n');
  assert.match(r(), /install: refusing, nothing changed: \/boot\/grub\/grub\.cfg is made by update-grub, which is missing/);
  rmSync(join(tree, 'boot/grub'), { recursive: true });
  mkdirSync(join(tree, 'boot/extlinux'), { recursive: true });
  writeFileSync(join(tree, 'boot/extlinux/extlinux.conf'), 'LABEL l\n  APPEND root=/dev/sda1 ro\n');
  mkdirSync(join(tree, 'etc/sysconfig'), { recursive: true });
  writeFileSync(join(tree, 'etc/sysconfig/readonly-root'), 'READONLY=no\n');
  assert.match(r(), /install: refusing, nothing changed: roroot would be off at boot \(READONLY=no and TEMPORARY_STATE=no\): roroot install --readonly sets READONLY=yes/);
  assert.equal(unconverted(listing()), unconverted(before));
});

t.run();
