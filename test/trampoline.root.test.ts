import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { SNAPSHOT_V8_FLAGS, snapshotFiles, snapshotStamp } from '../init/snapshot-build';
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
const HERE = { cpuinfo: readFileSync('/proc/cpuinfo', 'utf8') };
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

// `devNull`: a /dev/null in it (the module loader's output goes there);
// without, as a /dev before devtmpfs: nothing may need one.
function trampoline(cmdline: string, env: string, devNull = false) {
  writeFileSync(join(dir, 'cmdline'), cmdline + '\n');
  return inNamespace(`
mount --bind ${tree} ${tree}; mount -o remount,bind,ro ${tree}
${usrMountSh(tree)}
mount -t proc proc ${tree}/proc; mount --bind ${dir}/cmdline ${tree}/proc/cmdline
# A /dev of our own, so that the kernel log lines land in a file, not in
# this machine's kernel log.
mount -t tmpfs -o mode=0755 tmpfs ${tree}/dev; : > ${tree}/dev/kmsg${devNull ? `; mknod -m 666 ${tree}/dev/null c 1 3` : ''}
mount -t tmpfs -o mode=0755 tmpfs ${tree}/run
${env} chroot ${tree} /sbin-roroot/roroot-init single 2>&1
echo "=== kmsg"; cat ${tree}/dev/kmsg
echo "=== run"; ls ${tree}/run
`);
}

t('boots, then execs roroot.init= with the arguments init was given', () => {
  const r = trampoline('ro roroot.init=/fake-init', 'RORORT_JS=/roroot.js');
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /roroot: boot: done in/);
  assert.match(r.stdout, /init pid-ok=yes args=single\n\/var\/lib\/roroot\/volatile\/tmp\ntmp\n/);
  assert.match(r.stdout, /=== kmsg\n<6>roroot: pseudo: mount -n -t sysfs .*\n(.*\n)*<6>roroot: boot: done in/);
});

t('starts the boot stage from the startup snapshot while its stamp holds, also after the root was copied onto another filesystem (new inodes); from the bundle when a file of the stamp changed', () => {
  copyFileSync(join(REPO, 'dist/roroot-snapshot.js'), join(tree, 'roroot-snapshot.js'));
  copyFileSync(join(REPO, 'patches/snapshot-check.sh'), join(tree, 'snapshot-check.sh'));
  // The tree's own node, stamped as `roroot snapshot` stamps it.
  mkdirSync(join(tree, 'opt'));
  execFileSync('cp', ['-p', process.execPath, join(tree, 'opt/node')]);
  execFileSync(join(tree, 'opt/node'), [...SNAPSHOT_V8_FLAGS, '--snapshot-blob', join(tree, 'roroot.blob'), '--build-snapshot', join(tree, 'roroot-snapshot.js')]);
  writeFileSync(join(tree, 'roroot.blob.node'), snapshotStamp(tree, snapshotFiles('/opt/node', readFileSync('/proc/self/maps', 'utf8')), SNAPSHOT_V8_FLAGS, HERE));
  // What roroot flash does to every file: the same content, times and
  // size, on another inode.
  execFileSync('cp', ['-p', join(tree, 'opt/node'), join(tree, 'opt/node.copy')]);
  renameSync(join(tree, 'opt/node.copy'), join(tree, 'opt/node'));
  const env = 'RORORT_JS=/roroot.js RORORT_BLOB=/roroot.blob RORORT_NODE=/opt/node';
  const snap = trampoline('ro roroot.init=/fake-init', env);
  assert.match(snap.stdout, /roroot: boot: roroot \S+, started from its startup snapshot\n/);
  assert.match(snap.stdout, /roroot: boot: done in/);
  assert.match(snap.stdout, /init pid-ok=yes args=single/);
  // With the interpreter alone (--jitless), and nothing from node on the
  // console (it warns when --jitless turns off --expose-wasm by itself).
  assert.not.match(snap.stdout, /disabling flag/, snap.stdout);
  assert.match(snap.stdout, /=== run\nroroot-snapshot-started\n/, 'said in /run, for /usr/sbin/roroot');
  const stamp = readFileSync(join(tree, 'roroot.blob.node'), 'utf8');
  // An image's blob, built on qemu64 in emulation: no file tells whether
  // V8 takes it here, the trampoline tries it.
  writeFileSync(join(tree, 'roroot.blob.node'), stamp.replace(/^cpu .*$/m, 'emulated qemu64'));
  const emulated = trampoline('ro roroot.init=/fake-init', env);
  assert.match(emulated.stdout, /roroot: boot: roroot \S+, started from its startup snapshot\n/);
  assert.match(emulated.stdout, /=== run\nroroot-snapshot-started\n/);
  writeFileSync(join(tree, 'roroot.blob.node'), stamp.replace(/^cpu .*$/m, 'cpu fpu vme'));
  const otherCpu = trampoline('ro roroot.init=/fake-init', env);
  assert.not.match(otherCpu.stdout, /startup snapshot/, 'built where the CPU had other features: V8 would refuse it');
  assert.match(otherCpu.stdout, /roroot: boot: done in/);
  writeFileSync(join(tree, 'roroot.blob.node'), stamp);
  execFileSync('touch', ['-d', '2001-01-01', join(tree, 'opt/node')]); // another package's node
  const plain = trampoline('ro roroot.init=/fake-init', env);
  assert.not.match(plain.stdout, /startup snapshot/);
  assert.match(plain.stdout, /roroot: boot: done in/);
});

// A node that runs nothing (the NFS mount is not the test's: no address
// is contacted); a module loader that notes its words in the kernel log,
// and whether node had started while it ran (it waits up to 2 s for that;
// node waits up to 1 s for it to finish, so that it is in the log).
t('the NFS client is loaded beside node when REMOTE, or CLIENTSTATE without STATE_LABEL, is set (roroot.conf over Fedora\'s file), not otherwise', () => {
  writeFileSync(join(tree, 'fake-node'), '#!/bin/sh\n: > /run/node-started\ni=0; until [ -e /run/modprobe-done ] || [ $i -ge 50 ]; do i=$((i + 1)); sleep 0.02; done\n');
  writeFileSync(
    join(tree, 'fake-modprobe'),
    '#!/bin/sh\ni=0; until [ -e /run/node-started ] || [ $i -ge 100 ]; do i=$((i + 1)); sleep 0.02; done\n[ -e /run/node-started ] && b=beside || b=before\necho "<6>modprobe $* ($b node)" >> /dev/kmsg; : > /run/modprobe-done\n',
  );
  for (const f of ['fake-node', 'fake-modprobe']) chmodSync(join(tree, f), 0o755);
  mkdirSync(join(tree, 'etc/sysconfig'), { recursive: true });
  const loads = (roroot: string, fedora: string, devNull = true) => {
    writeFileSync(join(tree, 'etc/roroot.conf'), roroot);
    writeFileSync(join(tree, 'etc/sysconfig/readonly-root'), fedora);
    const r = trampoline('ro roroot.init=/fake-init', 'RORORT_JS=/roroot.js RORORT_NODE=/fake-node RORORT_MODPROBE=/fake-modprobe', devNull);
    assert.match(r.stdout, /^init pid-ok=yes args=single\n/, r.stdout);
    const said = /=== kmsg\n(?:.*\n)*?<6>modprobe (.*)\n/.exec(r.stdout);
    if (said) assert.is(said[1], '-q nfsv4 (beside node)');
    return !!said;
  };
  assert.ok(loads('REMOTE=10.0.2.100:/export\n', ''), 'REMOTE');
  assert.ok(loads('  export REMOTE="10.0.2.100:/export" # the NAS\n', ''), 'REMOTE exported, quoted, commented');
  assert.ok(loads('STATE_LABEL=\n', 'CLIENTSTATE=10.0.2.100:/clients\n'), "Fedora's CLIENTSTATE, no state partition to come first");
  assert.not.ok(loads('', 'CLIENTSTATE=10.0.2.100:/clients\n'), 'CLIENTSTATE behind the STATE_LABEL partition');
  assert.not.ok(loads('STATE_LABEL=\nCLIENTSTATE="" # none\n', 'CLIENTSTATE=10.0.2.100:/clients\n'), "roroot.conf's empty CLIENTSTATE over Fedora's");
  assert.not.ok(loads('RW_LABEL=\nVOLATILE=/tmp\n#REMOTE=10.0.2.100:/export\n', ''), 'no NFS store');
  assert.not.ok(loads('REMOTE=10.0.2.100:/export\nREMOTE=\n', ''), 'the last REMOTE wins');
  assert.not.ok(loads('REMOTE=10.0.2.100:/export\n', '', false), 'no /dev/null yet: no head start, and nothing said (the init line comes first)');
});

t('a blob V8 refuses (another configuration, as another CPU makes it; node exits before anything ran): the boot stage once more from the plain bundle, said as a warning', () => {
  copyFileSync(join(REPO, 'patches/snapshot-check.sh'), join(tree, 'snapshot-check.sh'));
  copyFileSync(join(REPO, 'dist/roroot-snapshot.js'), join(tree, 'roroot-snapshot.js'));
  mkdirSync(join(tree, 'opt'));
  execFileSync('cp', ['-p', process.execPath, join(tree, 'opt/node')]);
  execFileSync(join(tree, 'opt/node'), ['--snapshot-blob', join(tree, 'roroot.blob'), '--no-opt', '--build-snapshot', join(tree, 'roroot-snapshot.js')]);
  writeFileSync(join(tree, 'roroot.blob.node'), snapshotStamp(tree, ['/opt/node'], SNAPSHOT_V8_FLAGS, HERE));
  const r = trampoline('ro roroot.init=/fake-init', 'RORORT_JS=/roroot.js RORORT_BLOB=/roroot.blob RORORT_NODE=/opt/node');
  assert.match(r.stdout, /Failed to load the startup snapshot/);
  assert.match(r.stdout, /roroot-init: the boot stage from its startup snapshot failed \(exit \d+\): once more from the plain bundle\n/);
  assert.match(r.stdout, /roroot: boot: done in/);
  assert.match(r.stdout, /init pid-ok=yes args=single/);
  assert.match(r.stdout, /=== kmsg\n<4>roroot-init: the boot stage from its startup snapshot failed/);
  assert.match(r.stdout, /=== run\n$/, 'not said to start: /usr/sbin/roroot keeps to the bundle');
});

t('/usr/sbin/roroot: from the snapshot while its stamp holds (a blob that is not one aborts V8: it was used), from the bundle otherwise', () => {
  copyFileSync(join(REPO, 'patches/snapshot-check.sh'), join(tree, 'snapshot-check.sh'));
  copyFileSync(join(REPO, 'pkg/debian/roroot.sh'), join(tree, 'sbin-roroot/roroot'));
  chmodSync(join(tree, 'sbin-roroot/roroot'), 0o755);
  mkdirSync(join(tree, 'opt'));
  execFileSync('cp', ['-p', process.execPath, join(tree, 'opt/node')]);
  writeFileSync(join(tree, 'roroot.blob'), 'not a V8 snapshot\n');
  const run = () => inNamespace(`${usrMountSh(tree)}\nmount -t proc proc ${tree}/proc\nenv -i PATH=/usr/sbin:/usr/bin:/sbin:/bin RORORT_JS=/roroot.js RORORT_BLOB=/roroot.blob RORORT_NODE=/opt/node chroot ${tree} /sbin-roroot/roroot --version 2>&1; echo "rc=$?"`);
  writeFileSync(join(tree, 'roroot.blob.node'), snapshotStamp(tree, ['/opt/node'], SNAPSHOT_V8_FLAGS, HERE));
  assert.not.match(run().stdout, /rc=0/, 'the stamp holds: the blob was started');
  writeFileSync(join(tree, 'roroot.blob.node'), snapshotStamp(tree, ['/opt/node'], SNAPSHOT_V8_FLAGS, HERE).replace(/ \d+:/, ' 1:'));
  assert.match(run().stdout, /^\d+\.\d+\.\d+\S*\nrc=0\n$/, 'another node: the bundle');
  // An image's blob: only once the trampoline saw it start this boot.
  writeFileSync(join(tree, 'roroot.blob.node'), snapshotStamp(tree, ['/opt/node'], SNAPSHOT_V8_FLAGS, 'emulated'));
  assert.match(run().stdout, /^\d+\.\d+\.\d+\S*\nrc=0\n$/, 'not seen to start: the bundle');
  const envTry = inNamespace(`${usrMountSh(tree)}\nmount -t proc proc ${tree}/proc\nenv -i PATH=/usr/sbin:/usr/bin:/sbin:/bin snapshot_try=yes RORORT_JS=/roroot.js RORORT_BLOB=/roroot.blob RORORT_NODE=/opt/node chroot ${tree} /sbin-roroot/roroot --version 2>&1; echo "rc=$?"`);
  assert.match(envTry.stdout, /^\d+\.\d+\.\d+\S*\nrc=0\n$/, "the trampoline's try is not the environment's");
  writeFileSync(join(tree, 'run/roroot-snapshot-started'), '');
  assert.not.match(run().stdout, /rc=0/, 'seen to start this boot: the blob');
  writeFileSync(join(tree, 'roroot.blob.node'), snapshotStamp(tree, ['/opt/node'], SNAPSHOT_V8_FLAGS, HERE).replace(/^cpu .*\n/m, ''));
  assert.match(run().stdout, /^\d+\.\d+\.\d+\S*\nrc=0\n$/, 'a stamp that says nothing of the CPU: the bundle');
  // Words the stamp puts on node's command line: flags, nothing else.
  writeFileSync(join(tree, 'roroot.blob.node'), snapshotStamp(tree, ['/opt/node'], ['--no-enable-avx', '/etc/passwd'], HERE));
  assert.match(run().stdout, /^\d+\.\d+\.\d+\S*\nrc=0\n$/, 'a stamp with a word that is no flag: the bundle');
  rmSync(join(tree, 'roroot.blob.node'));
  assert.match(run().stdout, /^\d+\.\d+\.\d+\S*\nrc=0\n$/, 'no stamp: the bundle');
});

t('from the snapshot, the kernel is the one running, not the one the blob was built under (node keeps os.release() in a snapshot)', () => {
  copyFileSync(join(REPO, 'patches/snapshot-check.sh'), join(tree, 'snapshot-check.sh'));
  copyFileSync(join(REPO, 'dist/roroot-snapshot.js'), join(tree, 'roroot-snapshot.js'));
  copyFileSync(join(REPO, 'pkg/debian/roroot.sh'), join(tree, 'sbin-roroot/roroot'));
  chmodSync(join(tree, 'sbin-roroot/roroot'), 0o755);
  mkdirSync(join(tree, 'opt'));
  execFileSync('cp', ['-p', process.execPath, join(tree, 'opt/node')]);
  execFileSync(join(tree, 'opt/node'), [...SNAPSHOT_V8_FLAGS, '--snapshot-blob', join(tree, 'roroot.blob'), '--build-snapshot', join(tree, 'roroot-snapshot.js')]);
  writeFileSync(join(tree, 'roroot.blob.node'), snapshotStamp(tree, ['/opt/node'], SNAPSHOT_V8_FLAGS, HERE));
  // A kernel other than the one that built the blob: its modules, no
  // modules.dep yet (in a system of its own under /alt: the tree's /usr is
  // this machine's), and /proc saying it runs.
  mkdirSync(join(tree, 'alt/lib/modules/9.9.9-other/kernel'), { recursive: true });
  mkdirSync(join(tree, 'alt/etc'));
  writeFileSync(join(tree, 'alt/lib/modules/9.9.9-other/kernel/x.ko'), '');
  writeFileSync(join(tree, 'alt/etc/roroot.conf'), 'READONLY=yes\nVOLATILE=/tmp\n');
  writeFileSync(join(dir, 'osrelease'), '9.9.9-other\n');
  const r = inNamespace(`${usrMountSh(tree)}\nmount -t proc proc ${tree}/proc\nmount --bind ${dir}/osrelease ${tree}/proc/sys/kernel/osrelease
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin RORORT_JS=/roroot.js RORORT_BLOB=/roroot.blob RORORT_NODE=/opt/node chroot ${tree} sh -x /sbin-roroot/roroot plan --root /alt 2>&1`);
  assert.match(r.stdout, /--snapshot-blob \/roroot\.blob -- plan --root \/alt\n/, 'started from the snapshot');
  assert.match(r.stdout, /depmod 9\.9\.9-other /, r.stdout);
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
  // The last BOOT_DEADLINE with digits wins, quoted or not, blanks around
  // it; one that is not digits, or in a comment, is not one.
  writeFileSync(join(tree, 'etc/roroot.conf'), 'RW_LABEL=\nBOOT_DEADLINE="300"\nVOLATILE=/tmp\n  BOOT_DEADLINE=\'10\'\t\nBOOT_DEADLINE=ten\n# BOOT_DEADLINE=200\nBOOT_DEADLINE="5\n');
  const t0 = Date.now();
  const r = trampoline('ro roroot.init=/fake-init', 'RORORT_NODE=/hang');
  const took = (Date.now() - t0) / 1000;
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.ok(took >= 10 && took < 40, `handed over after ${took} s`);
  assert.match(r.stdout, /=== kmsg\n<3>roroot-init: the boot stage did not finish within 10 s \(BOOT_DEADLINE\): stopped, handing over anyway\n/);
  assert.match(r.stdout, /init pid-ok=yes args=single/);
});

t.run();
