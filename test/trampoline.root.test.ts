import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { inNamespace } from './support/namespace';
import { buildTree, usrMountSh } from './support/system-tree';

// /sbin/roroot-init runs the boot stage, then always execs the real init
// with the arguments it was given. Run for real, chrooted in a system tree.

const t = suite('patches/roroot-init.sh (root)');
const REPO = resolve(__dirname, '../..');
let dir: string;
let tree: string;

t.before.each(() => {
  dir = mkdtempSync(join(tmpdir(), 'roroot-init-'));
  tree = join(dir, 'tree');
  buildTree(tree, { conf: 'RW_LABEL=\nVOLATILE=/tmp\n' });
  mkdirSync(join(tree, 'sbin-roroot'));
  copyFileSync(join(REPO, 'patches/roroot-init.sh'), join(tree, 'sbin-roroot/roroot-init'));
  copyFileSync(join(REPO, 'dist/roroot.js'), join(tree, 'roroot.js'));
  // The "real init": says how it was started, and where /tmp leads.
  writeFileSync(join(tree, 'fake-init'), '#!/bin/sh\necho "init pid-ok=$([ $$ -gt 0 ] && echo yes) args=$*"\nreadlink /tmp\nls /var/lib/roroot/volatile/\n');
  chmodSync(join(tree, 'fake-init'), 0o755);
});
t.after.each(() => rmSync(dir, { recursive: true, force: true }));

function trampoline(cmdline: string, env: string) {
  writeFileSync(join(dir, 'cmdline'), cmdline + '\n');
  return inNamespace(`
mount --bind ${tree} ${tree}; mount -o remount,bind,ro ${tree}
${usrMountSh(tree)}
mount -t proc proc ${tree}/proc; mount --bind ${dir}/cmdline ${tree}/proc/cmdline
# A /dev of our own, so that the kernel log lines land in a file, not in
# this machine's kernel log.
mount -t tmpfs -o mode=0755 tmpfs ${tree}/dev; : > ${tree}/dev/kmsg
${env} chroot ${tree} /sbin-roroot/roroot-init single 2>&1
echo "=== kmsg"; cat ${tree}/dev/kmsg
`);
}

t('boots, then execs roroot.init= with the arguments init was given', () => {
  const r = trampoline('ro roroot.init=/fake-init', 'RORORT_JS=/roroot.js');
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /roroot: boot: done in/);
  assert.match(r.stdout, /init pid-ok=yes args=single\n\/var\/lib\/roroot\/volatile\/tmp\ntmp\n/);
  assert.match(r.stdout, /=== kmsg\n<6>roroot: pseudo: mount -n -t sysfs .*\n(.*\n)*<6>roroot: boot: done in/);
});

t('starts the boot stage from the startup snapshot the stamp says this node built; from the bundle when it names another node', () => {
  copyFileSync(join(REPO, 'dist/roroot-snapshot.js'), join(tree, 'roroot-snapshot.js'));
  execFileSync(process.execPath, ['--snapshot-blob', join(tree, 'roroot.blob'), '--build-snapshot', join(tree, 'roroot-snapshot.js')]);
  const st = statSync(process.execPath);
  writeFileSync(join(tree, 'roroot.blob.node'), `${st.size}:${Math.floor(st.mtimeMs / 1000)}:${st.ino}\n`);
  // The tree runs this machine's node, chrooted: its path inside the tree.
  const env = `RORORT_JS=/roroot.js RORORT_BLOB=/roroot.blob RORORT_NODE=${process.execPath}`;
  const snap = trampoline('ro roroot.init=/fake-init', env);
  assert.match(snap.stdout, /roroot: boot: roroot \S+, started from its startup snapshot\n/);
  assert.match(snap.stdout, /roroot: boot: done in/);
  assert.match(snap.stdout, /init pid-ok=yes args=single/);
  writeFileSync(join(tree, 'roroot.blob.node'), '1:2:3\n'); // another node built it
  const plain = trampoline('ro roroot.init=/fake-init', env);
  assert.not.match(plain.stdout, /startup snapshot/);
  assert.match(plain.stdout, /roroot: boot: done in/);
});

t('hands over even when node fails, and says so', () => {
  const r = trampoline('ro roroot.init=/fake-init', 'RORORT_NODE=/bin/false');
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /roroot-init: boot stage failed \(exit 1\), handing over anyway/);
  assert.match(r.stdout, /=== kmsg\n<3>roroot-init: boot stage failed \(exit 1\), handing over anyway\n/);
  assert.match(r.stdout, /init pid-ok=yes args=single/);
});

t('noreadonlyroot: a read-write boot, the volatile links resolving into the master copy, then init', () => {
  const r = trampoline('ro noreadonlyroot roroot.init=/fake-init', 'RORORT_JS=/roroot.js');
  assert.match(r.stdout, /roroot: boot: off \(noreadonlyroot on the kernel command line\)/);
  assert.match(r.stdout, /init pid-ok=yes args=single\n\/var\/lib\/roroot\/volatile\/tmp\n(.*\n)*tmp\n(.*\n)*===/, 'the scratch mount shows the master copy');
});

t('a boot stage that hangs is stopped at BOOT_DEADLINE, and init starts anyway, said as an error', () => {
  // A node that never returns: the whole stage hangs, not one command.
  writeFileSync(join(tree, 'hang'), '#!/bin/sh\nsleep 600\n');
  chmodSync(join(tree, 'hang'), 0o755);
  writeFileSync(join(tree, 'etc/roroot.conf'), 'RW_LABEL=\nVOLATILE=/tmp\nBOOT_DEADLINE="10"\n');
  const t0 = Date.now();
  const r = trampoline('ro roroot.init=/fake-init', 'RORORT_NODE=/hang');
  const took = (Date.now() - t0) / 1000;
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.ok(took >= 10 && took < 40, `handed over after ${took} s`);
  assert.match(r.stdout, /=== kmsg\n<3>roroot-init: the boot stage did not finish within 10 s \(BOOT_DEADLINE\): stopped, handing over anyway\n/);
  assert.match(r.stdout, /init pid-ok=yes args=single/);
});

t.run();
