import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { BUNDLE, lines, mountsOf, Router } from '../support/router';
import { buildTree } from '../support/system-tree';

// What comes from a state store is data: a stick carrying our label, or
// a state partition, whose files list and content are hostile, on loop
// devices. Nothing it lists may be bound over what the router's policy
// denies, nothing on it runs, and no list hangs or floods the boot.

const t = suite('places/state-file (root, loop devices)');
const STATE = '/var/lib/roroot/state';
let r: Router;
t.before.each(() => {
  r = new Router('stores', 80, [32, 32]);
});
t.after.each(() => r.close());

// The state partition (p2, with STATE_LABEL), filled by `fill` (shell, $m
// is its mount point).
const state = (fill: string) => `mkfs.ext4 -q -L ${r.stateLabel} ${r.disk.partition(2)}; m=$(mktemp -d); mount ${r.disk.partition(2)} $m; ${fill}; umount $m`;
const kmsg = () => readFileSync(join(r.dir, 'kmsg'), 'utf8');
const conf = () => `RW_LABEL=\nSTATE_LABEL=${r.stateLabel}\nVOLATILE=/tmp\n`;

t('a hostile files list binds nothing over the system, each refusal a warning; a setuid binary on the store does not run', () => {
  buildTree(r.tree, { conf: conf() });
  mkdirSync(join(r.tree, 'etc/ssh'), { recursive: true });
  writeFileSync(join(r.tree, 'etc/ssh/sshd_config'), 'image\n');
  mkdirSync(join(r.tree, 'sbin-real'), { recursive: true });
  const hostile = ['/etc/shadow', '/sbin/init', '/usr/lib/systemd/systemd', '/etc/roroot.conf', '/etc/ld.so.preload', '/proc', '/var/lib', '/var', '/', '/etc/ssh'];
  const b = r.boot({
    before: state(`printf '${hostile.join('\\n')}\\n' > $m/files; mkdir -p $m/etc/ssh $m/sbin; echo store > $m/etc/ssh/sshd_config; cp /bin/true $m/sbin/init; chmod 4755 $m/sbin/init`),
    after: `echo "=== binds"; findmnt -rn -o TARGET | grep '^${r.tree}/' | sed 's#^${r.tree}##' | sort
echo "=== ssh"; cat ${r.tree}/etc/ssh/sshd_config
echo "=== run"; ${r.tree}${STATE}/sbin/init 2>&1 && echo ran || echo "not run"
echo "=== status"; node ${BUNDLE} status --root ${r.tree} --json || true`,
  });
  assert.is(b.s.rc.trim(), '0', b.stdout + b.stderr);
  const binds = lines(b.s.binds);
  assert.ok(binds.includes('/etc/ssh'), 'an allowed path is bound');
  for (const p of hostile.filter((h) => h !== '/etc/ssh' && h !== '/proc')) assert.not.ok(binds.includes(p), `${p} bound from the store`);
  assert.is(b.s.ssh.trim(), 'store');
  assert.match(b.s.run, /Permission denied\nnot run/, 'the store is mounted noexec');
  const st = mountsOf(b.s).find((m) => m[0] === STATE);
  assert.ok(st && ['nosuid', 'nodev', 'noexec'].every((o) => st[3].split(',').includes(o)), st?.join(' '));
  const refused = kmsg().split('\n').filter((l) => /<4>roroot: plan: state-files: .*: refused/.test(l));
  assert.is(refused.length, hostile.length - 1, refused.join('\n'));
  assert.match(kmsg(), /<4>roroot: plan: state-files: \/var\/lib\/roroot\/state\/files:2: \/sbin\/init: refused \(.*\/sbin\/init lies under \/(usr|sbin): no store may bind over it\)/);
  const status = JSON.parse(b.s.status);
  assert.is(status.degraded, true);
  assert.ok(status.places.some((p: { path: string; state: string }) => p.path === '/sbin/init' && p.state === 'refused'));
});

t('a FIFO, a symlink or a giant as the files list: not read, said, and the boot does not hang', () => {
  buildTree(r.tree, { conf: conf() });
  writeFileSync(join(r.dir, 'shadow-like'), 'root:$y$j9T$secrethash:19000:0:99999:7:::\n');
  for (const [what, fill, said] of [
    ['fifo', 'mkfifo $m/files', 'is not a regular file: not read'],
    ['symlink', `ln -s ${join(r.dir, 'shadow-like')} $m/files`, 'is a symlink: not read'],
    ['giant', 'head -c 1048576 /dev/zero | tr "\\\\0" "/" > $m/files', 'is 1048576 bytes, more than 65536: not read'],
  ] as const) {
    const t0 = Date.now();
    const b = r.boot({ before: state(fill) });
    assert.is(b.s.rc.trim(), '0', what);
    assert.ok(Date.now() - t0 < 30_000, `${what}: ${Date.now() - t0} ms`);
    assert.match(kmsg(), new RegExp(`<4>roroot: state-files: ${STATE}/files ${said}`), `${what}: ${kmsg()}`);
    assert.not.match(kmsg() + b.stdout, /secrethash/);
  }
});

t('a store copy never leaves its filesystem, never copies a path into itself, never copies devices or fifos', () => {
  buildTree(r.tree, { conf: conf() });
  // /var/lib/x holds a fifo and a device node: the first-boot copy into the
  // state is refused whole, nothing half-copied.
  mkdirSync(join(r.tree, 'var/lib/x'), { recursive: true });
  writeFileSync(join(r.tree, 'var/lib/x/ok'), 'ok\n');
  const b = r.boot({ before: `mkfifo ${r.tree}/var/lib/x/fifo; ${state("echo /var/lib/x > $m/files")}`, after: `echo "=== copied"; ls -A ${r.tree}${STATE}/var/lib 2>&1 || true` });
  assert.is(b.s.rc.trim(), '0');
  assert.match(kmsg(), /<3>roroot: state-files: missing \/var\/lib\/x; mount -n --bind \S+ \S+: refusing to copy \S+\/var\/lib\/x\/fifo onto a store: only files, directories and symlinks go there, continuing/);
  assert.not.match(b.s.copied, /x/, 'nothing of it written to the store');
});

t('--root: a symlink in the tree pointing out of it never makes boot create or mount anything outside the tree', () => {
  buildTree(r.tree, { conf: conf() });
  const outside = join(r.dir, 'outside');
  mkdirSync(outside);
  // The state's mount point is a link to an absolute path that exists on
  // this machine: on the router it means TREE/<that path>.
  const { rmSync } = require('node:fs') as typeof import('node:fs');
  rmSync(join(r.tree, STATE), { recursive: true });
  symlinkSync(outside, join(r.tree, STATE));
  const b = r.boot({ before: state('echo hi > $m/inside'), after: `echo "=== outside"; ls -A ${outside}; echo "=== intree"; inside 'cat ${STATE}/inside'` });
  assert.is(b.s.rc.trim(), '0', b.stdout + b.stderr);
  assert.is(b.s.outside.trim(), '', "this machine's directory is untouched");
  assert.is(b.s.intree.trim(), 'hi', 'the state is mounted where the link points inside the tree');
});

t.run();
