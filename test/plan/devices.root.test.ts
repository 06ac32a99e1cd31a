import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { BUNDLE, mountsOf, Router } from '../support/router';
import { buildTree, RW } from '../support/system-tree';

// The rule that decides which device boot may format, on loop devices: every
// way it formatted a device it was not given, now refused, with the user's
// data intact, a tmpfs scratch, the boot up, and degraded said loudly.

const t = suite('plan/devices (root, loop devices)');
let r: Router;
t.before.each(() => {
  // p1 small, p2 the scratch, p3 the state, p4 another roroot disk's scratch
  r = new Router('devices', 120, [4, 32, 32, 32]);
});
t.after.each(() => r.close());

// A filesystem with a file the user stored, made before the boot.
const stored = (part: string, label: string) => `mkfs.ext4 -q -L ${label} ${part}; m=$(mktemp -d); mount ${part} $m; echo precious > $m/stored; umount $m`;
const intact = (part: string) => `debugfs -R 'cat /stored' ${part} 2>/dev/null`;
const STATUS = `echo "=== status"; rc=0; node ${BUNDLE} status --root TREE --json > STATUS || rc=$?; cat STATUS; echo "=== statusrc"; echo $rc`;
const status = (r: Router) => STATUS.replace(/TREE/g, r.tree).replace(/STATUS/g, join(r.dir, 'status.json'));
const kmsg = () => readFileSync(join(r.dir, 'kmsg'), 'utf8');

t('RW_DEVICE names a device that is missing: tmpfs, never the partition carrying RW_LABEL; degraded, warned at <4>, status exits 1', () => {
  buildTree(r.tree, { conf: `RW_DEVICE=PARTUUID=deadbeef-09\nRW_LABEL=${r.rwLabel}\nSTATE_LABEL=${r.stateLabel}\nVOLATILE=/tmp\n` });
  const b = r.boot({ before: stored(r.disk.partition(4), r.rwLabel), after: `echo "=== p4"; ${intact(r.disk.partition(4))}\n${status(r)}` });
  assert.is(b.s.rc.trim(), '0', b.stdout + b.stderr);
  assert.is(b.s.p4.trim(), 'precious', 'the other disk keeps what was stored on it');
  assert.equal(mountsOf(b.s).find((m) => m[0] === RW)?.[1], 'tmpfs');
  assert.match(kmsg(), /<4>roroot: plan: scratch: RW_DEVICE=PARTUUID=deadbeef-09: no such device \(a device named explicitly has no stand-in\): the scratch is a tmpfs\n/);
  assert.match(kmsg(), /<4>roroot: boot: DEGRADED \(\d+ reasons?\)/);
  const st = JSON.parse(b.s.status);
  assert.is(st.degraded, true);
  assert.ok(st.reasons.includes('scratch: RW_DEVICE=PARTUUID=deadbeef-09: no such device (a device named explicitly has no stand-in): the scratch is a tmpfs'), st.reasons.join('\n'));
  assert.is(b.s.statusrc.trim(), '1');
});

t('two partitions carry RW_LABEL: neither is formatted, the warning names both', () => {
  buildTree(r.tree, { conf: `RW_LABEL=${r.rwLabel}\nSTATE_LABEL=${r.stateLabel}\nVOLATILE=/tmp\n` });
  const b = r.boot({ before: `${stored(r.disk.partition(2), r.rwLabel)}; ${stored(r.disk.partition(4), r.rwLabel)}`, after: `echo "=== p2"; ${intact(r.disk.partition(2))}; echo "=== p4"; ${intact(r.disk.partition(4))}` });
  assert.is(b.s.rc.trim(), '0');
  assert.is(b.s.p2.trim(), 'precious');
  assert.is(b.s.p4.trim(), 'precious');
  const said = new RegExp(`<4>roroot: plan: scratch: RW_LABEL=${r.rwLabel}: found on 2 devices \\((\\S+), (\\S+)\\): refusing to choose: the scratch is a tmpfs`).exec(kmsg());
  assert.equal([said?.[1], said?.[2]].sort(), [r.disk.partition(2), r.disk.partition(4)], kmsg());
});

t('RW_DEVICE names the state partition (sdb and sdc swapped): the state is kept and mounted as the state, as data', () => {
  buildTree(r.tree, { conf: `RW_DEVICE=${r.disk.partition(3)}\nSTATE_LABEL=${r.stateLabel}\nVOLATILE=/tmp\n` });
  const b = r.boot({ before: stored(r.disk.partition(3), r.stateLabel), after: `echo "=== state"; cat ${r.tree}/var/lib/roroot/state/stored` });
  assert.is(b.s.rc.trim(), '0');
  assert.is(b.s.state.trim(), 'precious', 'not formatted, and mounted where the state belongs');
  const state = mountsOf(b.s).find((m) => m[0] === '/var/lib/roroot/state');
  assert.ok(state && state[2] === r.disk.partition(3), JSON.stringify(state));
  assert.ok(['nosuid', 'nodev', 'noexec'].every((o) => state?.[3].split(',').includes(o)), `a store is data: ${state?.[3]}`);
  assert.equal(mountsOf(b.s).find((m) => m[0] === RW)?.[1], 'tmpfs');
  assert.match(kmsg(), new RegExp(`<4>roroot: plan: scratch: refusing to mkfs \\S+ \\(PARTUUID=\\S+, LABEL=${r.stateLabel}, 32 MiB\\) \\(RW_DEVICE=\\S+\\): it is the persistent state \\(STATE_LABEL=${r.stateLabel}\\)`));
});

t('RW_OPTIONS for the partition only: with no partition the tmpfs still comes up (it ended in NOTHING USABLE), capped by RW_TMPFS_SIZE', () => {
  buildTree(r.tree, { conf: `RW_DEVICE=PARTUUID=deadbeef-09\nRW_LABEL=\nSTATE_LABEL=${r.stateLabel}\nRW_OPTIONS=commit=60\nRW_TMPFS_SIZE=8m\nVOLATILE=/tmp\n` });
  const b = r.boot({});
  assert.is(b.s.rc.trim(), '0', b.stdout + b.stderr);
  const tmpfs = mountsOf(b.s).find((m) => m[0] === RW);
  assert.is(tmpfs?.[1], 'tmpfs');
  assert.match(tmpfs?.[3] ?? '', /(^|,)size=8192k(,|$)/);
  assert.not.match(b.s.boot, /NOTHING USABLE/);
});

t('a healthy boot: status --json says degraded false with no reasons, and exits 0', () => {
  buildTree(r.tree, { conf: `RW_DEVICE=PARTUUID=${r.disk.partuuid(2)}\nRW_LABEL=\nSTATE_LABEL=${r.stateLabel}\nVOLATILE=/tmp\n` });
  const b = r.boot({ before: `mkfs.ext4 -q -L ${r.stateLabel} ${r.disk.partition(3)}`, after: status(r) });
  const st = JSON.parse(b.s.status);
  assert.is(st.degraded, false, JSON.stringify(st.reasons));
  assert.equal(st.reasons, []);
  assert.is(b.s.statusrc.trim(), '0');
  assert.not.match(kmsg(), /<[34]>/, 'not one warning or error in the kernel log');
});

t('/ read-write although READONLY=yes: said at <4>, degraded', () => {
  buildTree(r.tree, { conf: `RW_DEVICE=PARTUUID=${r.disk.partuuid(2)}\nRW_LABEL=\nSTATE_LABEL=${r.stateLabel}\nVOLATILE=/tmp\n` });
  const b = r.boot({ readOnlyRoot: false, before: `mount --bind ${r.tree} ${r.tree}`, after: status(r) });
  assert.match(kmsg(), /<4>roroot: plan: \/ is mounted read-write although READONLY=yes: a power cut can damage it/);
  assert.is(JSON.parse(b.s.status).degraded, true);
});

t('a command that really hangs (blkid stuck on a dying disk) is stopped at its limit, and the boot comes up, degraded', () => {
  // Something boot does not read itself on p4: with a label to look for,
  // blkid is asked about it, and this blkid never answers.
  buildTree(r.tree, { conf: `RW_LABEL=${r.rwLabel}\nSTATE_LABEL=${r.stateLabel}\nVOLATILE=/tmp\n` });
  const t0 = Date.now();
  const b = r.boot({
    before: `head -c 1048576 /dev/zero | tr '\\0' '\\7' > ${r.disk.partition(4)}; mkdir -p ${r.dir}/bin; printf '#!/bin/sh\\nexec sleep 600\\n' > ${r.dir}/bin/blkid; chmod 755 ${r.dir}/bin/blkid`,
    env: `PATH=${r.dir}/bin:$PATH`,
  });
  const took = (Date.now() - t0) / 1000;
  assert.is(b.s.rc.trim(), '0', b.stdout + b.stderr);
  assert.ok(took < 60, `took ${took} s`);
  assert.match(kmsg(), /<4>roroot: plan: devices: blkid -c \/dev\/null -o export \S+: timed out after 15 s: labels of \S+/);
  assert.equal(mountsOf(b.s).find((m) => m[0] === RW)?.[1], 'tmpfs', 'no device known to carry the label: the tmpfs');
});

t.run();
