import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_CACHE, rootfsTarball } from '../../board/rootfs';
import { LoopDisk } from '../support/loop-disk';
import { inNamespace, sections } from '../support/namespace';
import { buildTree, MASTER, RW } from '../support/system-tree';

// The read-write windows for real: a root filesystem on a loop partition
// mounted read-only in a private namespace, with real Debian kernel modules
// (a few, from the image's root filesystem), and the bundle remounting it.

const t = suite('rw windows (root, loop devices)');
const BUNDLE = resolve(__dirname, '../../../dist/roroot.js');
let dir: string;
let mods: string; // a Debian kernel's module directory, partial
let release: string;
let disk: LoopDisk;
const MNT = () => join(dir, 'mnt');

t.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'roroot-rw-'));
  const from = join(dir, 'rootfs');
  mkdirSync(from);
  const wanted = ['kernel/fs/fat/*', 'kernel/fs/nls/nls_cp437.ko', 'modules.order', 'modules.builtin', 'modules.builtin.modinfo'];
  execFileSync('tar', ['-C', from, '--wildcards', '-xf', rootfsTarball(DEFAULT_CACHE, () => {}), ...wanted.map((w) => `./usr/lib/modules/*/${w}`)]);
  release = readdirSync(join(from, 'usr/lib/modules'))[0];
  mods = join(from, 'usr/lib/modules', release);
});
t.after(() => rmSync(dir, { recursive: true, force: true }));

t.before.each(() => {
  const tree = join(dir, 'tree');
  rmSync(tree, { recursive: true, force: true });
  disk = LoopDisk.create(join(dir, 'disk.img'), 120, [48, 64]);
  buildTree(tree, { conf: `RW_DEVICE=PARTUUID=${disk.partuuid(2)}\nRW_LABEL=\nVOLATILE="/tmp /var/log /var/spool/lpd"\n` });
  // A real /lib here (the tree's usually points at the host's /usr/lib).
  unlinkSync(join(tree, 'lib'));
  cpSync(mods, join(tree, 'lib/modules', release), { recursive: true });
  execFileSync('depmod', ['-b', tree, release]);
  // 256-byte inodes as on any real root: nanosecond times (mkfs's "small"
  // type would give 128-byte ones, and a touch in the same second as the
  // last depmod would not count as newer).
  execFileSync('mkfs.ext4', ['-q', '-I', '256', '-d', tree, disk.partition(1)]);
});
t.after.each(() => disk.detach());

// Shell run in one private namespace with the root mounted read-only at MNT.
function onRouter(script: string) {
  const r = inNamespace(`
mkdir -p ${MNT()}
mount -o ro ${disk.partition(1)} ${MNT()}
M=${MNT()}; D=$M/lib/modules/${release}
rw() { node ${BUNDLE} rw --root $M --kmsg none "$@"; }
status() { node ${BUNDLE} status --root $M || true; }
boot() { node ${BUNDLE} boot --root $M --cmdline ro --kmsg none --no-background --kernel-release ${release}; }
rootmode() { findmnt -n -o OPTIONS $M | cut -d, -f1; }
${script}`);
  if (process.env.DEBUG_RW) console.log(r.stdout, r.stderr);
  return { ...r, s: sections(r.stdout) };
}

t('modules.dep: current means no window; stale (touched, or missing) means one, atomic and correct; then current again', () => {
  const r = onRouter(`
echo "=== boot1"; boot
echo "=== reference"; cat $D/modules.dep
mount -o remount,rw $M; rm $D/modules.dep; touch $D/kernel/fs/fat/vfat.ko; mount -o remount,ro $M
echo "=== boot2"; boot
echo "=== mode2"; rootmode
echo "=== dep2"; cat $D/modules.dep
echo "=== leftovers"; ls -a $D | grep -c roroot-new || true
echo "=== modprobe"; modprobe -d $M -S ${release} --show-depends vfat
echo "=== boot3"; boot
mount -o remount,rw $M; touch $D/kernel/fs/nls/nls_cp437.ko; mount -o remount,ro $M
echo "=== boot4"; boot
echo "=== boot5"; boot
echo "=== status"; status
echo "=== windows"; cat $M${RW}/.roroot/windows.json
`);
  const s = r.s;
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.match(s.boot1, new RegExp(`scratch: mount -n -t ext4 -o nosuid,nodev \\S*${disk.partition(2)} \\S*${RW}`));
  assert.match(s.boot1, /modules\.dep is current, no window/);
  assert.not.match(s.boot1, /rw-window/);
  assert.match(s.boot2, /modules: depmod -b \S+\/\.roroot\/depmod \S+ \([\d.]+ ms, outside the window\): \d+ of \d+ files differ/);
  assert.match(s.boot2, new RegExp(`rw-window: modules\\.dep \\([\\d.]+ ms, \\d+ writes, [\\d.]+ KiB to ${disk.partition(1)}\\)`));
  assert.is(s.mode2.trim(), 'ro');
  assert.is(s.dep2, s.reference);
  assert.is(s.leftovers.trim(), '0');
  assert.match(s.modprobe, /fat\.ko[^]*vfat\.ko/);
  assert.match(s.boot3, /modules\.dep is current, no window/);
  assert.match(s.boot4, /modules: modules\.dep is stale: \S+\/nls_cp437\.ko is newer than modules\.dep/);
  assert.match(s.boot4, /: 0 of \d+ files differ/);
  assert.match(s.boot4, /rw-window: modules\.dep/);
  assert.match(s.boot5, /modules\.dep is current, no window/);
  assert.match(s.status, /root {6}\S+ \(ext4\) read-only/);
  assert.match(s.status, /last rw window: modules\.dep: [\d.]+ ms, \d+ writes \([\d.]+ KiB\), closed, at \S+ \(2 since boot\)/);
  assert.is((JSON.parse(s.windows) as unknown[]).length, 2);
});

t('roroot rw: COMMAND with / writable, read-only after, its exit status passed on, also when it fails or is missing', () => {
  const r = onRouter(`
boot > /dev/null
echo "=== ok"; rc=0; rw -- sh -c "echo tuned > $M/etc/motd" || rc=$?; echo "rc=$rc $(rootmode)"; cat $M/etc/motd
echo "=== fails"; rc=0; rw -- sh -c 'exit 3' || rc=$?; echo "rc=$rc $(rootmode)"
echo "=== missing"; rc=0; rw -- /no/such/command || rc=$?; echo "rc=$rc $(rootmode)"
echo "=== nocommand"; rc=0; rw 2>&1 || rc=$?; echo "rc=$rc"
echo "=== touched"; rc=0; touch $M/etc/x 2>&1 || rc=$?; echo "rc=$rc"
`);
  const s = r.s;
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.match(s.ok, new RegExp(`rw-window: rw: sh -c echo tuned > \\S+ \\([\\d.]+ ms, \\d+ writes, [\\d.]+ KiB to ${disk.partition(1)}\\)`));
  assert.match(s.ok, /rc=0 ro\ntuned\n/);
  assert.match(s.fails, /rw: sh -c exit 3: exit 3\nrc=3 ro\n/);
  assert.match(s.missing, /rw: \/no\/such\/command: command not found/);
  assert.match(s.missing, /rc=127 ro\n/);
  assert.match(s.nocommand, /no command given[^]*rc=2/);
  assert.match(s.touched, /Read-only file system[^]*rc=1/);
});

t('roroot rw: a read-only bind over a read-write mount of /: the window is for the top one, which hides the other (until 2026-12 the first was read, and the command ran without a window and hit EROFS)', () => {
  const r = onRouter(`
mount -o remount,rw $M; mount --bind $M $M; mount -o remount,bind,ro $M
boot > /dev/null
top() { findmnt -n -o OPTIONS $M | tail -n 1 | cut -d, -f1; }
echo "=== before"; touch $M/etc/x 2>&1 || echo refused
echo "=== rw"; rc=0; rw -- sh -c "echo tuned > $M/etc/motd" || rc=$?; echo "rc=$rc $(top)"
echo "=== after"; cat $M/etc/motd; touch $M/etc/x 2>&1 || echo refused
`);
  const s = r.s;
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.match(s.before, /refused/);
  assert.match(s.rw, /rw-window: rw: sh -c echo tuned/);
  assert.match(s.rw, /rc=0 ro\n/);
  assert.not.match(s.rw, /writable already/);
  assert.match(s.after, /^tuned\n[^]*refused/);
});

t('roroot rw: what a package adds under a volatile place is kept in the master copy; runtime data is not', () => {
  const r = onRouter(`
boot > /dev/null
# /var/log -> ${RW}/var/log, written on the scratch side (the link is absolute)
L=$M${RW}/var/log
rw -- sh -c "
  mkdir -p $L/newpkg/sub && chown 7:7 $L/newpkg && chmod 750 $L/newpkg
  echo runtime > $L/newpkg/run.log
  echo shipped > $L/newpkg/shipped.conf
  mkdir $M${RW}/tmp/userdir && chown 65534:65534 $M${RW}/tmp/userdir && chmod 777 $M${RW}/tmp/userdir
  mkdir -p $M/var/lib/dpkg/info && printf '/.\\n/var\\n/var/log\\n/var/log/newpkg\\n/var/log/newpkg/shipped.conf\\n' > $M/var/lib/dpkg/info/newpkg.list"
echo "=== master"; cd $M${MASTER}/var/log && find newpkg -printf '%p|%y|%m|%U:%G\\n' | sort
echo "=== tmp"; ls -A $M${MASTER}/tmp
echo "=== mode"; rootmode
`);
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /rw: \/var\/log\/newpkg kept in the master copy/);
  assert.equal(r.s.master.trim().split('\n'), ['newpkg/shipped.conf|f|644|0:0', 'newpkg/sub|d|755|0:0', 'newpkg|d|750|7:7']);
  assert.is(r.s.tmp.trim(), '', 'a directory nobody made in /tmp meanwhile is runtime data, not the master copy');
  assert.is(r.s.mode.trim(), 'ro');
});

t('roroot rw: SIGTERM, SIGHUP, SIGQUIT and SIGUSR2 end COMMAND and close the window; a second rw meanwhile is refused; after SIGKILL its supervisor closes it', () => {
  const r = onRouter(`
boot > /dev/null
waitlock() { i=0; until [ "$(rootmode)" = rw ] || [ $i -ge 100 ]; do sleep 0.1; i=$((i+1)); done; sleep 0.3; }
for sig in TERM HUP QUIT USR2; do
  echo "=== $sig"
  node ${BUNDLE} rw --root $M --kmsg none -- sleep 60 > $M${RW}/out 2>&1 & pid=$!
  waitlock
  echo "during: $(rootmode)"
  rc=0; rw -- true 2>&1 || rc=$?; echo "second rc=$rc"
  kill -$sig $pid; rc=0; wait $pid || rc=$?; echo "rc=$rc after: $(rootmode)"; cat $M${RW}/out
done
echo "=== KILL"
: > ${dir}/kmsg
node ${BUNDLE} rw --root $M --kmsg ${dir}/kmsg -- sleep 60 > /dev/null 2>&1 & pid=$!
waitlock
child=$(pgrep -P $pid); kill -KILL $pid; wait $pid || true
i=0; until [ "$(rootmode)" = ro ] || [ $i -ge 50 ]; do sleep 0.1; i=$((i+1)); done
echo "killed, then: $(rootmode)"
kill $child
rw -- true; echo "after: $(rootmode)"
echo "=== kmsg"; cat ${dir}/kmsg
`);
  const s = r.s;
  assert.is(r.code, 0, r.stdout + r.stderr);
  for (const [sig, code] of [['TERM', 143], ['HUP', 129], ['QUIT', 131], ['USR2', 140]] as const) {
    assert.match(s[sig], /during: rw\n/);
    assert.match(s[sig], /a read-write window is open already \(pid \d+: sleep 60\): refused\nsecond rc=1/);
    assert.match(s[sig], new RegExp(`rc=${code} after: ro\\n`));
    assert.match(s[sig], new RegExp(`rw: SIG${sig}: passed on to the command; / goes back to read-only`));
    assert.match(s[sig], /rw-window: rw: sleep 60 \(/);
  }
  assert.match(s.KILL, /killed, then: ro\n/, 'the supervisor made / read-only when its owner died');
  assert.match(s.KILL, /the window of "rw: sleep 60" \(\S+\) ended with its owner \(killed\?\); its supervisor made \/ read-only again/);
  assert.match(s.KILL, /after: ro\n/);
  assert.match(s.kmsg, /<4>roroot: rw-window: its owner died with \/ read-write: closed by its supervisor\n/);
});

t('a file held open for writing: the close is retried, then reported with its holder, and status says so; the next rw closes it', () => {
  const r = onRouter(`
boot > /dev/null
echo "=== held"; rc=0; rw -- sh -c "sleep 30 > $M/etc/held 2>/dev/null & echo \\$! > $M${RW}/holder" || rc=$?; echo "rc=$rc $(rootmode)"
echo "=== status"; status | grep 'last rw window'
kill $(cat $M${RW}/holder); sleep 0.2
echo "=== again"; rw -- true; echo "$(rootmode)"
`);
  const s = r.s;
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.match(s.held, /remount,ro \/: \S+: mount point is busy\. \(exit 32\), retrying in 100 ms/);
  assert.match(s.held, /\/ IS STILL WRITABLE \(open for writing: pid \d+ \(sleep\) \S+\/etc\/held\)/);
  assert.match(s.held, /rc=1 rw\n/);
  assert.match(s.status, /LEFT WRITABLE/);
  assert.match(s.again, /\/ was left writable by "rw: sh -c sleep 30 > \S+ 2>\/dev\/null & echo \$! > \S+" \(\S+\): closing it after this one/);
  assert.match(s.again, /rw-window: rw: true \([\d.]+ ms/);
  assert.ok(s.again.endsWith('ro\n'), s.again);
});

t.run();
