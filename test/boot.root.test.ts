import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { LoopDisk } from './support/loop-disk';
import { inNamespace } from './support/namespace';
import { BUNDLE, lines, mountsOf as routerMounts, Router } from './support/router';
import { buildTree, MASTER, RW } from './support/system-tree';

// The bundled dist/roroot.js, run for real as root on a disk image attached
// to a loop device, in private namespaces, against a system tree whose root
// is bind-mounted read-only as on the router.

const t = suite('boot (root, loop devices)');
// The flags the scratch's mkfs always has, as the plan shows them.
const MKFS = 'mkfs\\.ext4 -q -F -m 0 -E nodiscard -O \\^has_journal';
const RWTAB = 'dirs /var/cache/man\nempty /var/lib/dhclient\nfiles /etc/resolv.conf\nfiles /var/lib/nfs\nempty /does/not/exist\n';

let router: Router;
let ctx: { dir: string; tree: string; disk: LoopDisk };

t.before.each(() => {
  router = new Router('boot', 80, [4, 64]);
  ctx = router;
});
t.after.each(() => router.close());

const bootIn = (opts: Parameters<Router['boot']>[0]) => router.boot(opts);

// The last boot's steps from `roroot status --json`, and when its local
// steps (volatile links, rwtab binds) ran on the stage's clock.
type StepSeen = { id: string; phase: string; atMs: number; ms: number; status: string };
const lastBootSteps = (statusJson: string) => JSON.parse(statusJson).lastBoot.steps as StepSeen[];
function localSpan(steps: StepSeen[]) {
  const local = steps.filter((x) => x.phase === 'rwtab' || x.phase === 'volatile');
  return { local, localFrom: Math.min(...local.map((x) => x.atMs)), localUntil: Math.max(...local.map((x) => x.atMs + x.ms)) };
}
const mountsOf = (s: Record<string, string>) => routerMounts(s).map((m) => m.slice(0, 3));

t('scratch partition by PARTUUID: re-made, filled exactly from the master copy, volatile links and rwtab binds work, root stays read-only', () => {
  buildTree(ctx.tree, { conf: `RW_DEVICE=PARTUUID=${ctx.disk.partuuid(2)}\nRW_LABEL=\nVOLATILE="/tmp /var/log /var/spool/lpd"\n`, rwtab: RWTAB });
  const r = bootIn({
    after: `
echo "=== master"; listing ${ctx.tree}${MASTER}
echo "=== scratch"; listing ${ctx.tree}${RW}
echo "=== devnode"; stat -c '%F %t:%T' ${ctx.tree}${RW}/var/lib/chroot/dev/null
echo "=== through-links"; inside 'echo hello > /tmp/new; echo line >> /var/log/syslog'; cat ${ctx.tree}${RW}/tmp/new ${ctx.tree}${RW}/var/log/syslog
echo "=== rwtab"; find ${ctx.tree}/var/cache/man ${ctx.tree}/var/lib/dhclient ${ctx.tree}/var/lib/nfs -printf '%P|%y|%m|%U:%G\\n' | sort; cat ${ctx.tree}/etc/resolv.conf
echo "=== rwtab-write"; inside 'echo x > /var/lib/dhclient/new.lease; echo y > /etc/resolv.conf'; ls ${ctx.tree}${RW}/var/lib/dhclient; cat ${ctx.tree}${RW}/etc/resolv.conf
echo "=== rootwrite"; inside 'touch /etc/newfile' 2>&1 || true
echo "=== status"; node ${BUNDLE} status --root ${ctx.tree} --json
`,
  });
  const s = r.s;
  assert.is(s.rc.trim(), '0', r.stdout + r.stderr);
  const scratch = mountsOf(s).find((m) => m[0] === RW);
  assert.equal(scratch?.slice(1), ['ext4', ctx.disk.partition(2)], 'scratch is the partition, freshly made ext4');
  assert.ok(s.master.length > 100);
  const master = lines(s.master);
  assert.equal(
    lines(s.scratch).filter((l) => master.includes(l)),
    master,
    'the scratch holds the whole master copy: types, modes (setuid, sticky), owners, sizes, link targets',
  );
  assert.equal(
    lines(s.scratch).filter((l) => !master.includes(l)),
    [
      // what rwtab replicated: dirs without files, empty without content, files whole
      'etc/resolv.conf|f|644|0:0|22|',
      'etc|d|755|0:0||',
      'var/cache/man/cat1|d|2755|6:12||',
      'var/cache/man/man1|d|755|0:0||',
      'var/cache/man|d|755|0:0||',
      'var/cache|d|755|0:0||',
      'var/lib/dhclient|d|755|0:0||',
      'var/lib/nfs/etab|f|600|0:0|5|',
      'var/lib/nfs/sm|d|700|0:0||',
      'var/lib/nfs|d|755|0:0||',
    ],
  );
  assert.ok(s.master.includes('var/lib/chroot/dev/null|c|666|0:0|'), 'a device node in the master copy');
  assert.ok(s.master.includes('var/lib/initctl|p|620|0:0|'), 'a fifo');
  assert.ok(s.master.includes('usr/bin/suid-helper|f|4755|0:0|'), 'a setuid file');
  assert.ok(s.master.includes('var/run|l|777|0:0|4|/run'), 'a symlink');
  assert.is(s.devnode.trim(), 'character special file 1:3');
  assert.equal(lines(s['through-links']), ['hello', 'master syslog line', 'line']);
  // Seen through the binds on the root: the same replicas.
  assert.equal(lines(s.rwtab).sort(), ['|d|755|0:0', '|d|755|0:0', '|d|755|0:0', 'cat1|d|2755|6:12', 'etab|f|600|0:0', 'man1|d|755|0:0', 'sm|d|700|0:0', 'nameserver 192.0.2.53'].sort());
  assert.equal(lines(s['rwtab-write']), ['new.lease', 'y']);
  assert.match(s.rootwrite, /Read-only file system/);
  const bindTargets = mountsOf(s).filter((m) => m[2].startsWith(`${ctx.disk.partition(2)}[`)).map((m) => m[0]).sort();
  assert.equal(bindTargets, ['/etc/machine-id', '/etc/resolv.conf', '/var/cache/man', '/var/lib/dhclient', '/var/lib/nfs'], 'with no state, the identity is made on the scratch for this boot');
  const kmsg = readFileSync(join(ctx.dir, 'kmsg'), 'utf8');
  assert.match(kmsg, new RegExp(`<6>roroot: scratch: ${MKFS} -d ${ctx.tree}${MASTER} ${ctx.tree}${ctx.disk.partition(2)} \\([0-9.]+ ms\\)`));
  assert.match(kmsg, new RegExp(`<6>roroot: rwtab: files /etc/resolv.conf; mount -n --bind \\S+ ${ctx.tree}/etc/resolv.conf \\([0-9.]+ ms\\)`));
  assert.match(kmsg, /<6>roroot: plan: rwtab: \/does\/not\/exist does not exist, skipped \(\/etc\/rwtab:5\)/);
  assert.match(s.boot, /roroot: boot: done in [0-9.]+ ms, \d+ steps, 0 failed/);
  const status = JSON.parse(s.status);
  assert.is(status.root.readOnly, true);
  assert.is(status.stores[0].mounted, true);
  assert.ok(status.stores[0].freeBytes > 0);
  assert.ok(status.places.every((p: { ok: boolean }) => p.ok), JSON.stringify(status.places));
  assert.ok(status.lastBoot.steps.some((x: { id: string; status: string }) => x.id === 'scratch.mkfs' && x.status === 'ok'));
});

t('no state: the SSH host keys are made beside the local steps, the rest of the identity after them, all bound after them, each once', () => {
  buildTree(ctx.tree, { conf: `RW_DEVICE=PARTUUID=${ctx.disk.partuuid(2)}\nRW_LABEL=\nVOLATILE="/tmp /var/log"\n`, rwtab: RWTAB });
  mkdirSync(join(ctx.tree, 'etc/dropbear'));
  // dropbear as its package lays it out, over the host's /usr in the test's
  // namespace; its key maker writes the file it is given and takes a while.
  const usr = join(ctx.dir, 'usr-extra');
  mkdirSync(join(usr, 'sbin'), { recursive: true });
  mkdirSync(join(usr, 'bin'), { recursive: true });
  writeFileSync(join(usr, 'sbin/dropbear'), '#!/bin/sh\n', { mode: 0o755 });
  writeFileSync(join(usr, 'bin/dropbearkey'), '#!/bin/sh\nwhile [ $# -gt 0 ]; do [ "$1" = -f ] && f=$2; shift; done\nsleep 0.2\necho key > "$f"\n', { mode: 0o755 });
  const r = bootIn({ usr, after: `echo "=== keys"; ls ${ctx.tree}/etc/dropbear
echo "=== status"; node ${BUNDLE} status --root ${ctx.tree} --json` });
  assert.is(r.s.rc.trim(), '0', r.stdout + r.stderr);
  assert.equal(lines(r.s.keys), ['dropbear_ecdsa_host_key', 'dropbear_ed25519_host_key'], 'the keys, bound over /etc/dropbear');
  const steps = lastBootSteps(r.s.status);
  const at = (id: string) => steps.find((x) => x.id === id);
  const keys = at('identity:/etc/dropbear');
  const machineId = at('identity:/etc/machine-id');
  const { local, localFrom, localUntil } = localSpan(steps);
  assert.ok(keys && machineId && local.length > 0 && keys.status === 'ok', JSON.stringify(steps));
  assert.ok(keys.atMs <= localFrom, `keys from ${keys.atMs} ms, local steps from ${localFrom} ms (until 2026-12 after them)`);
  assert.ok(machineId.atMs >= localUntil - 0.1, `machine id at ${machineId.atMs} ms, local steps until ${localUntil} ms`);
  for (const id of ['identity:/etc/dropbear:bind', 'identity:/etc/machine-id:bind']) assert.ok((at(id)?.atMs ?? -1) >= localUntil - 0.1, `${id} after the local steps`);
  for (const id of ['identity:/etc/dropbear', 'identity:/etc/machine-id']) assert.is(steps.filter((x) => x.id === id).length, 1, `${id} made once`);
});

t('a persistent link under an rwtab bind: the network lane starts after the local steps (until 2026-12 it raced the bind)', () => {
  // No NFS server in the test's network namespace: the mount fails at once,
  // and when it started is what is asserted.
  buildTree(ctx.tree, { conf: `RW_DEVICE=PARTUUID=${ctx.disk.partuuid(2)}\nRW_LABEL=\nVOLATILE=/tmp\nREMOTE=127.0.0.1:/e\nPERSISTENT=/var/lib/nfs/kept\n`, rwtab: RWTAB });
  const r = bootIn({ after: `echo "=== status"; node ${BUNDLE} status --root ${ctx.tree} --json` });
  assert.is(r.s.rc.trim(), '0', r.stdout + r.stderr);
  const steps = lastBootSteps(r.s.status);
  const remote = steps.find((x) => x.id === 'remote.nfs');
  const { local, localUntil } = localSpan(steps);
  assert.ok(remote && local.length > 0, JSON.stringify(steps));
  assert.ok(remote.atMs >= localUntil - 0.1, `REMOTE from ${remote.atMs} ms, the local steps until ${localUntil} ms`);
});

t('every boot re-makes the scratch: a file written after boot 1 is gone after boot 2, garbage over the partition is survived', () => {
  buildTree(ctx.tree, { conf: `RW_DEVICE=PARTUUID=${ctx.disk.partuuid(2)}\nRW_LABEL=\nVOLATILE="/tmp /var/log"\n` });
  const first = bootIn({ after: `inside 'echo leftover > /tmp/leftover; echo more >> /var/log/syslog; sync'` });
  assert.is(first.s.rc.trim(), '0', first.stdout + first.stderr);
  // A power cut mid-write, and worse: random bytes over the first 8 MiB.
  writeFileSync(join(ctx.dir, 'noise'), Buffer.alloc(8 << 20, 0xa5).map((_, i) => (i * 2654435761) >>> 24));
  inNamespace(`dd if=${ctx.dir}/noise of=${ctx.disk.partition(2)} bs=1M conv=fsync status=none`);
  const second = bootIn({ after: `echo "=== tmp"; inside 'ls -A /tmp/'; echo "=== syslog"; inside 'cat /var/log/syslog'; echo "=== fsck"; umount ${ctx.tree}${RW}; e2fsck -fn ${ctx.disk.partition(2)} >/dev/null 2>&1 && echo clean` });
  assert.is(second.s.rc.trim(), '0', second.stdout + second.stderr);
  assert.equal(lines(second.s.tmp), [], 'the file written after boot 1 is gone');
  assert.equal(lines(second.s.syslog), ['master syslog line']);
  assert.is(second.s.fsck.trim(), 'clean', 'the re-made filesystem is consistent');
  assert.equal(mountsOf(second.s).find((m) => m[0] === RW)?.slice(1), ['ext4', ctx.disk.partition(2)], 'the partition, not the tmpfs fallback');
});

t('scratch found by label (blkid), relabelled by mkfs so the next boot finds it again', () => {
  inNamespace(`mkfs.ext4 -q -L rrt-scratch ${ctx.disk.partition(2)}`);
  buildTree(ctx.tree, { conf: 'RW_LABEL=rrt-scratch\nVOLATILE=/tmp\n' });
  for (let boot = 1; boot <= 2; boot++) {
    const r = bootIn({});
    assert.is(r.s.rc.trim(), '0');
    assert.equal(mountsOf(r.s).find((m) => m[0] === RW)?.slice(1), ['ext4', ctx.disk.partition(2)], `boot ${boot}`);
    assert.match(r.s.boot, new RegExp(`scratch: ${MKFS} -L rrt-scratch -d ${ctx.tree}${MASTER} ${ctx.tree}${ctx.disk.partition(2)}`));
  }
});

t('no scratch partition: tmpfs, filled with the same content; the log says why', () => {
  buildTree(ctx.tree, { conf: 'RW_DEVICE=PARTUUID=deadbeef-09\nRW_LABEL=\nVOLATILE=/tmp\n' });
  const r = bootIn({ after: `echo "=== master"; listing ${ctx.tree}${MASTER}; echo "=== scratch"; listing ${ctx.tree}${RW}` });
  assert.is(r.s.rc.trim(), '0');
  assert.equal(mountsOf(r.s).find((m) => m[0] === RW)?.slice(1, 2), ['tmpfs']);
  assert.is(r.s.scratch, r.s.master);
  assert.match(r.s.boot, /roroot: plan: scratch: RW_DEVICE=PARTUUID=deadbeef-09: no such device/);
  assert.match(r.s.boot, new RegExp(`roroot: scratch: mount -n -t tmpfs -o mode=0755,size=25%,nosuid,nodev tmpfs ${ctx.tree}/var/lib/roroot/volatile \\(`));
});

t('mkfs fails (master copy too big for the partition): tmpfs fallback, said on the console and in the kernel log', () => {
  buildTree(ctx.tree, { conf: `RW_DEVICE=${ctx.disk.partition(1)}\nRW_LABEL=\nVOLATILE=/tmp\n` });
  writeFileSync(join(ctx.tree, MASTER, 'big'), Buffer.alloc(6 << 20, 1)); // 6 MiB into a 4 MiB partition
  const r = bootIn({ after: `echo "=== big"; stat -c %s ${ctx.tree}${RW}/big` });
  assert.is(r.s.rc.trim(), '0', 'the boot still comes up');
  assert.equal(mountsOf(r.s).find((m) => m[0] === RW)?.slice(1, 2), ['tmpfs']);
  assert.is(r.s.big.trim(), String(6 << 20));
  const kmsg = readFileSync(join(ctx.dir, 'kmsg'), 'utf8');
  assert.match(kmsg, new RegExp(`<3>roroot: scratch: ${MKFS} -d ${ctx.tree}${MASTER} ${ctx.tree}${ctx.disk.partition(1)}: .+, continuing \\(`));
  assert.match(r.s.boot, /roroot: scratch: mount -n -t tmpfs .* \S+\/var\/lib\/roroot\/volatile \(/);
  assert.match(r.s.boot, /roroot: scratch: mount -n -t ext4 .*: skipped, scratch\.mkfs did not succeed/);
});

t('a broken config line: a precise error on the console and in the kernel log, and the boot still comes up', () => {
  buildTree(ctx.tree, { conf: `RW_DEVICE=PARTUUID=${ctx.disk.partuuid(2)}\nRW_LABEL=\nVOLATILE=/tmp\nRW_FSTYPE=btrfs\nthis is not a setting\n`, rwtab: 'files /etc/resolv.conf\nmount /var/lib/nfs\n' });
  const r = bootIn({});
  assert.is(r.s.rc.trim(), '0');
  for (const where of [r.s.boot, readFileSync(join(ctx.dir, 'kmsg'), 'utf8')]) {
    assert.match(where, /roroot: config: \/etc\/roroot.conf:4: RW_FSTYPE: expected ext2, ext3 or ext4, got "btrfs"/);
    assert.match(where, /roroot: config: \/etc\/roroot.conf:5: expected KEY=value, got "this is not a setting"/);
    assert.match(where, /roroot: config: \/etc\/rwtab:2: expected "empty", "dirs" or "files" then a path, got "mount \/var\/lib\/nfs"/);
  }
  assert.ok(mountsOf(r.s).some((m) => m[0] === RW && m[1] === 'ext4'), 'the good lines still apply');
  assert.ok(mountsOf(r.s).some((m) => m[0] === '/etc/resolv.conf'));
});

t('noreadonlyroot on a converted system: / read-write, every volatile link resolving into the master copy, said as a warning', () => {
  buildTree(ctx.tree, { conf: `RW_DEVICE=PARTUUID=${ctx.disk.partuuid(2)}\nVOLATILE="/tmp /var/log /var/spool/lpd"\n`, rwtab: RWTAB });
  const r = bootIn({ cmdline: 'ro noreadonlyroot', after: `inside 'echo kept > /tmp/kept; echo line >> /var/log/syslog'; echo "=== master"; cat ${ctx.tree}${MASTER}/tmp/kept ${ctx.tree}${MASTER}/var/log/syslog; echo "=== links"; inside 'for l in tmp var/log var/spool/lpd; do [ -d /$l/ ] && echo "$l resolves"; done'` });
  assert.is(r.s.rc.trim(), '0', r.stdout + r.stderr);
  const root = mountsOf(r.s).find((m) => m[0] === '/');
  assert.ok(root, 'the tree');
  assert.equal(lines(r.s.master), ['kept', 'master syslog line', 'line'], `what is written lands in the master copy: a plain read-write system\n${r.stdout}${r.stderr}`);
  assert.equal(lines(r.s.links), ['tmp resolves', 'var/log resolves', 'var/spool/lpd resolves']);
  assert.not.ok(mountsOf(r.s).some((m) => m[1] === 'ext4' && m[2] === ctx.disk.partition(2)), 'the scratch partition is not formatted');
  const kmsg = readFileSync(join(ctx.dir, 'kmsg'), 'utf8');
  assert.match(kmsg, /<4>roroot: plan: noreadonlyroot on the kernel command line: \/ is read-write and unprotected; the volatile places are the master copy \/var\/lib\/roroot\/volatile.ini itself/);
});

t('boot run twice: the second run changes nothing and says so', () => {
  buildTree(ctx.tree, { conf: `RW_DEVICE=PARTUUID=${ctx.disk.partuuid(2)}\nRW_LABEL=\nVOLATILE=/tmp\n`, rwtab: RWTAB });
  const r = bootIn({ after: `inside 'echo kept > /tmp/kept'; echo "=== again"; node ${BUNDLE} boot --root ${ctx.tree} --cmdline ro --kmsg none --no-background; echo "=== kept"; inside 'cat /tmp/kept'; echo "=== mounts2"; findmnt -rn -o TARGET | grep '^${ctx.tree}' | grep -vc '^${ctx.tree}/usr$'` });
  assert.is(r.s.rc.trim(), '0');
  assert.is(r.s.kept.trim(), 'kept', 'the scratch was not re-made under a running system');
  assert.match(r.s.again, /already mounted \(boot ran before\): not re-made/);
  assert.match(r.s.again, /rwtab: files \/etc\/resolv.conf; mount .*: already done/);
  assert.match(r.s.again, new RegExp(`volatile: ln -s /var/lib/roroot/volatile/tmp ${ctx.tree}/tmp: already done`));
  assert.is(Number(r.s.mounts2.trim()), mountsOf(r.s).length, 'no mount added');
});

t('a symlink in the master copy cannot make boot write outside the scratch mount', () => {
  buildTree(ctx.tree, { conf: 'RW_LABEL=\n', rwtab: 'dirs /var/cache/man\n' });
  // The master copy redirects var/cache to the root's /etc; rwtab's copy of
  // /var/cache/man would then land in /etc/man on a writable root.
  const { symlinkSync } = require('node:fs') as typeof import('node:fs');
  symlinkSync('/etc', join(ctx.tree, MASTER, 'var/cache'));
  const r = bootIn({ readOnlyRoot: false, after: `echo "=== etc"; ls ${ctx.tree}/etc` });
  assert.is(r.s.rc.trim(), '0');
  assert.not.ok(lines(r.s.etc).includes('man'), 'nothing written through the link');
  assert.match(r.s.boot, /roroot: rwtab: dirs \/var\/cache\/man; mount .*: refusing to follow symlink \S+\/var\/lib\/roroot\/volatile\/var\/cache, continuing/);
});

t.run();
