import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { listingPipeline } from '../support/system-tree';

// roroot install + uninstall on a Debian-shaped tree: the tree after both
// is the tree before, compared as full listings (type, mode, owner, size of
// files, link target).

const t = suite('install (root)');
const BUNDLE = resolve(__dirname, '../../../dist/roroot.js');
let dir: string;
let tree: string;

const listing = () =>
  execFileSync('sh', ['-c', `cd ${tree} && ${listingPipeline()} | LC_ALL=C sort`], { encoding: 'utf8' });
const roroot = (...args: string[]) => execFileSync('node', [BUNDLE, ...args, '--root', tree], { encoding: 'utf8' });

function debianTree() {
  const at = (p: string) => join(tree, p);
  const d = (p: string, mode = 0o755, uid = 0, gid = 0) => {
    mkdirSync(at(p), { recursive: true });
    chownSync(at(p), uid, gid);
    chmodSync(at(p), mode);
  };
  const f = (p: string, text: string, mode = 0o644, uid = 0, gid = 0) => {
    mkdirSync(dirname(at(p)), { recursive: true });
    writeFileSync(at(p), text);
    chownSync(at(p), uid, gid);
    chmodSync(at(p), mode);
  };
  d('tmp', 0o1777);
  f('tmp/.X0-lock', 'x', 0o444);
  d('var/log/apt');
  f('var/log/dpkg.log', 'dpkg log\n', 0o644);
  f('var/log/apt/term.log', 'apt\n', 0o640, 0, 4);
  d('var/log/private', 0o700);
  d('run/lock', 0o1777);
  symlinkSync('/run', at('var/run'));
  symlinkSync('/run/lock', at('var/lock'));
  d('var/spool/cron/crontabs', 0o1730, 0, 102);
  f('var/spool/cron/crontabs/root', '* * * * * true\n', 0o600);
  d('var/spool/rsyslog', 0o700);
  d('var/backups');
  f('var/backups/passwd.bak', 'root:x:0:0\n', 0o600);
  d('var/cache/man', 0o2755, 6, 12);
  f('var/cache/man/index.db', 'db', 0o664, 6, 12);
  d('var/tmp', 0o1777);
  f('etc/fstab', '# <file system> <mount point> <type> <options> <dump> <pass>\nUUID=1234 / ext4 errors=remount-ro 0 1\nUUID=5678 /boot ext2 defaults 0 2\n');
  f('etc/mtab', 'stale mtab\n');
  f('boot/extlinux/extlinux.conf', 'DEFAULT linux\nLABEL linux\n  KERNEL /vmlinuz\n  APPEND root=/dev/vda1 ro console=ttyS0\n');
  f('etc/default/grub', 'GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX="quiet"\n');
  f('sbin/roroot-init', '#!/bin/sh\n', 0o755);
}

t.before.each(() => {
  dir = mkdtempSync(join(tmpdir(), 'roroot-install-'));
  tree = join(dir, 'tree');
  debianTree();
});
t.after.each(() => rmSync(dir, { recursive: true, force: true }));

t('install converts the seed-004 way; uninstall puts the tree back exactly', () => {
  const before = listing();
  const out = roroot('install');
  const after = listing();
  const RW = '/var/lib/roroot/volatile';
  for (const p of ['tmp', 'var/log', 'var/tmp', 'var/spool/cron', 'var/spool/rsyslog', 'var/backups', 'var/cache/man', 'var/lib/dhcp']) {
    assert.ok(after.includes(`\n${p}|l|777|0:0|${RW.length + p.length + 1}|${RW}/${p}\n`), `${p} is a link into the scratch`);
  }
  assert.ok(after.includes('\nvar/lib/roroot/volatile.ini/var/spool/cron/crontabs|d|1730|0:102||\n'), 'moved with mode and owner');
  assert.ok(after.includes('\nvar/lib/roroot/volatile.ini/var/cache/man/index.db|f|664|6:12|2|\n'));
  assert.ok(after.includes('\nvar/lib/roroot/volatile.ini/tmp|d|1777|0:0||\n'));
  assert.ok(after.includes('\nvar/lib/roroot/volatile.ini/var/lib/dhcp|d|755|0:0||\n'), 'a missing volatile dir is created');
  assert.ok(after.includes('\nvar/run|l|777|0:0|4|/run\n'), '/var/run -> /run is left alone');
  assert.match(out, /install: \/var\/run: already a symlink to \/run, left alone/);
  assert.ok(after.includes('\netc/mtab|l|777|0:0|12|/proc/mounts\n'));
  const file = (p: string) => execFileSync('cat', [join(tree, p)], { encoding: 'utf8' });
  assert.match(file('etc/fstab'), /\nUUID=1234 \/ ext4 ro,errors=remount-ro 0 1\nUUID=5678 \/boot ext2 defaults 0 2\n/);
  assert.match(file('boot/extlinux/extlinux.conf'), /APPEND root=\/dev\/vda1 ro console=ttyS0 init=\/sbin\/roroot-init\n/);
  assert.match(file('etc/default/grub'), /GRUB_CMDLINE_LINUX="quiet init=\/sbin\/roroot-init"/);
  assert.match(file('etc/roroot.conf'), /^VOLATILE="\/tmp \/var\/log \/var\/tmp \/var\/spool\/cron \/var\/spool\/rsyslog \/var\/backups \/var\/cache\/man \/var\/lib\/dhcp"$/m);
  // The converted tree is one boot can use: its plan has the links and the master copy.
  const plan = JSON.parse(roroot('plan', '--json', '--cmdline', 'ro'));
  assert.ok(plan.steps.some((s: { id: string }) => s.id === 'volatile:/var/log'));
  assert.not.ok(plan.warnings.some((w: string) => w.includes('master copy') || w.includes('/etc/mtab')), plan.warnings.join('\n'));

  const again = roroot('install');
  assert.match(again, /0 moved, 0 created/, again);
  assert.is(listing(), after, 'a second install changes nothing');

  roroot('uninstall');
  assert.is(listing(), before, 'install + uninstall leaves the tree as it was');
  assert.match(roroot('uninstall'), /nothing to undo/);
});

t('PERSISTENT: a directory moves into persistent.ini and links into the REMOTE mount; back on uninstall', () => {
  const before = listing();
  mkdirSync(join(tree, 'etc'), { recursive: true });
  writeFileSync(join(tree, 'etc/roroot.conf'), 'REMOTE=10.0.2.100:/export\nPERSISTENT="/var/backups /var/lib/ppp"\nVOLATILE=/tmp\n');
  const withConf = listing();
  const out = roroot('install');
  const after = listing();
  const linkLine = (p: string, target: string) => `\n${p}|l|777|0:0|${target.length}|${target}\n`;
  assert.ok(after.includes(linkLine('var/backups', '/var/lib/roroot/remote/var/backups')), out);
  assert.ok(after.includes('\nvar/lib/roroot/persistent.ini/var/backups/passwd.bak|f|600|0:0|11|\n'));
  assert.ok(after.includes(linkLine('var/lib/ppp', '/var/lib/roroot/remote/var/lib/ppp')));
  assert.match(out, /persistent: \/var\/backups \/var\/lib\/ppp/);
  roroot('uninstall');
  assert.is(listing(), withConf);
  assert.is.not(withConf, before);
});

t('content added to the master copy while installed comes back with the directory', () => {
  roroot('install', '--volatile', '/var/log');
  writeFileSync(join(tree, 'var/lib/roroot/volatile.ini/var/log/added-later'), 'new\n');
  roroot('uninstall');
  assert.is(execFileSync('cat', [join(tree, 'var/log/added-later')], { encoding: 'utf8' }), 'new\n');
});

t.run();
