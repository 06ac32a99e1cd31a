import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { describe } from '../../init/plan/describe';
import { planBoot } from '../../init/plan/plan';
import type { Step } from '../../init/plan/steps';
import { config, disk, facts, missing, mount } from './fixtures';

// The scratch and the rule that decides which device may be formatted
// (plan/devices.ts): every way to a wrong mkfs that was found, as a plan.

const t = suite('plan/scratch');
const RW = '/var/lib/roroot/volatile';
const MASTER = '/var/lib/roroot/volatile.ini';
const MKFS = 'mkfs.ext4 -q -F -m 0 -E nodiscard -O ^has_journal';
const TMPFS = [`mount -n -t tmpfs -o mode=0755,size=25%,nosuid,nodev tmpfs ${RW}`, `cp -a ${MASTER}/. ${RW}`];
const scratch = (steps: Step[]) => steps.filter((s) => s.phase === 'scratch').map(describe);
const formats = (steps: Step[]) => steps.some((s) => s.kind === 'mkfs');

t('RW_DEVICE: mkfs of that device filled from the master copy, then mount; tmpfs + fill is the fallback of both', () => {
  const f = facts({ blockDevices: [disk('/dev/vda2', '254:2', { partuuid: 'c0ffee00-02' })] });
  const plan = planBoot(config({ '/etc/roroot.conf': 'RW_DEVICE=PARTUUID=c0ffee00-02\nRW_LABEL=\n' }), f);
  const [mkfs, mnt] = plan.steps.filter((s) => s.phase === 'scratch');
  assert.is(describe(mkfs), `${MKFS} -d ${MASTER} /dev/vda2`);
  assert.ok(mkfs.kind === 'mkfs' && mkfs.device.number === '254:2' && mkfs.device.partuuid === 'c0ffee00-02' && mkfs.device.sizeBytes === 64 << 20, 'the device it was planned for');
  assert.is(mkfs.why, 'RW_DEVICE=PARTUUID=c0ffee00-02: /dev/vda2 (PARTUUID=c0ffee00-02, 64 MiB); re-made at every boot, filled from the master copy');
  assert.is(describe(mnt), `mount -n -t ext4 -o nosuid,nodev /dev/vda2 ${RW}`);
  assert.is(mnt.needs, 'scratch.mkfs');
  for (const s of [mkfs, mnt]) {
    assert.equal((s.fallback ?? []).map(describe), TMPFS);
    assert.is(s.fallback?.[0].fatal, true, 'no tmpfs either: nothing usable');
  }
  assert.equal(plan.warnings, []);
});

t('a device named explicitly and missing: tmpfs, never the device carrying RW_LABEL (a second roroot disk for reflashing)', () => {
  const other = disk('/dev/sdb2', '8:18', { label: 'roroot-rw' });
  const plan = planBoot(config({ '/etc/roroot.conf': 'RW_DEVICE=PARTUUID=c0ffee00-02\n' }), facts({ blockDevices: [other] }));
  assert.not.ok(formats(plan.steps));
  assert.equal(scratch(plan.steps), TMPFS);
  assert.ok(plan.warnings.includes('scratch: RW_DEVICE=PARTUUID=c0ffee00-02: no such device (a device named explicitly has no stand-in): the scratch is a tmpfs'), plan.warnings.join('\n'));
  const fstab = planBoot(config({ '/etc/fstab': `LABEL=gone ${RW} ext2 noauto 0 0\n`, '/etc/roroot.conf': 'RW_DEVICE=/dev/sdb2' }), facts({ blockDevices: [other] }));
  assert.not.ok(formats(fstab.steps), 'the fstab line names it: RW_DEVICE and the label are not stand-ins either');
  assert.ok(fstab.warnings.some((w) => w.startsWith('scratch: /etc/fstab:1: no such device')));
});

t('nothing named: the one device carrying RW_LABEL; two with the label: none is formatted, the error names both', () => {
  const a = disk('/dev/vda2', '254:2', { label: 'roroot-rw' });
  const b = disk('/dev/sdb2', '8:18', { label: 'roroot-rw' });
  const one = planBoot(config({}), facts({ blockDevices: [a] }));
  assert.is(scratch(one.steps)[0], `${MKFS} -L roroot-rw -d ${MASTER} /dev/vda2`);
  const two = planBoot(config({}), facts({ blockDevices: [a, b] }));
  assert.not.ok(formats(two.steps));
  assert.equal(scratch(two.steps), TMPFS);
  assert.ok(two.warnings.includes('scratch: RW_LABEL=roroot-rw: found on 2 devices (/dev/vda2, /dev/sdb2): refusing to choose: the scratch is a tmpfs'), two.warnings.join('\n'));
  const none = planBoot(config({}), facts());
  assert.ok(none.warnings.includes('scratch: RW_LABEL=roroot-rw: no such device: the scratch is a tmpfs'));
  const tmpfsBoard = planBoot(config({ '/etc/roroot.conf': 'RW_DEVICE=\nRW_LABEL=\n' }), facts());
  assert.equal(tmpfsBoard.warnings, [], 'a board that names no device wants the tmpfs: not degraded');
  assert.is(tmpfsBoard.steps[0].why, 'no scratch device configured (RW_DEVICE and RW_LABEL are empty)');
});

t('never the persistent state: RW_DEVICE naming the STATE_LABEL partition (sdb/sdc swapped) is refused, and the state still mounts', () => {
  const state = disk('/dev/sdc1', '8:33', { label: 'roroot-state', fstype: 'ext4' });
  const plan = planBoot(config({ '/etc/roroot.conf': 'RW_DEVICE=/dev/sdc1\n' }), facts({ blockDevices: [state] }));
  assert.not.ok(formats(plan.steps));
  assert.ok(plan.warnings.includes('scratch: refusing to mkfs /dev/sdc1 (LABEL=roroot-state, 64 MiB) (RW_DEVICE=/dev/sdc1): it is the persistent state (STATE_LABEL=roroot-state): the scratch is a tmpfs'), plan.warnings.join('\n'));
  assert.ok(plan.steps.some((s) => s.phase === 'state' && describe(s) === 'mount -n -o nosuid,nodev,noexec /dev/sdc1 /var/lib/roroot/state'));
  const byFstab = planBoot(config({ '/etc/fstab': 'UUID=5b1c /var/lib/roroot/state ext4 defaults 0 2\n', '/etc/roroot.conf': 'RW_DEVICE=/dev/sdc1\nSTATE_LABEL=' }), facts({ blockDevices: [{ ...state, label: null, uuid: '5b1c' }] }));
  assert.not.ok(formats(byFstab.steps), 'the state named by its fstab line');
});

t('never the root, a mounted device, a device held by something (O_EXCL refused), or a whole disk with partitions', () => {
  const cases: [string, ReturnType<typeof disk>, string][] = [
    ['the root', disk('/dev/vda1', '254:1'), 'it holds the root filesystem'],
    ['mounted elsewhere', disk('/dev/vdb1', '254:17'), 'it is mounted at /mnt'],
    ['held', disk('/dev/vdb1', '254:17', { claimed: 'EBUSY' }), 'it is in use (EBUSY: mounted, swap, or under a loop, dm, md or LUKS device)'],
    ['a partitioned disk', disk('/dev/vdb', '254:16', { partition: false, partitions: 2 }), 'it is a whole disk with 2 partitions'],
  ];
  for (const [what, d, why] of cases) {
    const mounts = what === 'mounted elsewhere' ? [...facts().mounts, mount('/mnt', '254:17', 'ext4')] : facts().mounts;
    const plan = planBoot(config({ '/etc/roroot.conf': `RW_DEVICE=${d.path}` }), facts({ blockDevices: [d], mounts }));
    assert.not.ok(formats(plan.steps), what);
    assert.ok(plan.warnings.some((w) => w.startsWith(`scratch: refusing to mkfs ${d.path} `) && w.includes(`: ${why}: the scratch is a tmpfs`)), `${what}: ${plan.warnings.join('\n')}`);
  }
  const ownDisk = planBoot(config({ '/etc/roroot.conf': 'RW_DEVICE=/dev/vdb' }), facts({ blockDevices: [disk('/dev/vdb', '254:16', { partition: false })] }));
  assert.ok(formats(ownDisk.steps), 'a disk of its own without partitions (the fleet) is formatted');
});

t('a device named through a /dev/disk/by-... link is that device', () => {
  const d = disk('/dev/vdb1', '254:17', { aliases: ['/dev/disk/by-partuuid/0badf00d-01'] });
  const plan = planBoot(config({ '/etc/roroot.conf': 'RW_DEVICE=/dev/disk/by-partuuid/0badf00d-01' }), facts({ blockDevices: [d] }));
  assert.match(scratch(plan.steps)[0], /^mkfs\.ext4 .* \/dev\/vdb1$/);
});

t('fstab names the scratch: its type and options; the label and a UUID are kept by mkfs, so fstab finds it next boot', () => {
  const byFstab = planBoot(
    config({ '/etc/fstab': `/dev/vda1 / ext4 ro 0 1\nLABEL=scratch ${RW} ext2 noauto,noatime 0 0\n`, '/etc/roroot.conf': 'RW_OPTIONS=commit=60' }),
    facts({ blockDevices: [disk('/dev/vda3', '254:3', { label: 'scratch' })] }),
  );
  assert.equal(scratch(byFstab.steps), ['mkfs.ext2 -q -F -m 0 -E nodiscard -L scratch -d /var/lib/roroot/volatile.ini /dev/vda3', `mount -n -t ext2 -o noatime,commit=60,nosuid,nodev /dev/vda3 ${RW}`]);
  assert.is(byFstab.steps[0].why, '/etc/fstab:2: /dev/vda3 (LABEL=scratch, 64 MiB); re-made at every boot, filled from the master copy');
  const uuid = planBoot(config({ '/etc/fstab': `UUID=5b1c0e7e-0000-4000-8000-000000000001 ${RW} ext4 defaults 0 0\n` }), facts({ blockDevices: [disk('/dev/sda4', '8:4', { uuid: '5b1c0e7e-0000-4000-8000-000000000001' })] }));
  assert.is(scratch(uuid.steps)[0], `${MKFS} -L roroot-rw -U 5b1c0e7e-0000-4000-8000-000000000001 -d ${MASTER} /dev/sda4`);
});

t('RW_OPTIONS is for the partition; the tmpfs fallback has its own options and a cap well below the kernel\'s 50% of RAM', () => {
  const d = disk('/dev/vda2', '254:2');
  const plan = planBoot(config({ '/etc/roroot.conf': 'RW_DEVICE=/dev/vda2\nRW_OPTIONS=commit=60\nRW_TMPFS_OPTIONS=nr_inodes=4k' }), facts({ blockDevices: [d] }));
  assert.is(describe(plan.steps[1]), `mount -n -t ext4 -o commit=60,nosuid,nodev /dev/vda2 ${RW}`);
  assert.is(describe(plan.steps[1].fallback?.[0] as Step), `mount -n -t tmpfs -o mode=0755,size=25%,nr_inodes=4k,nosuid,nodev tmpfs ${RW}`, 'no ext4 option on the tmpfs (commit=60 made it fail: NOTHING USABLE)');
  const capped = planBoot(config({ '/etc/roroot.conf': 'RW_DEVICE=\nRW_LABEL=\nRW_TMPFS_SIZE=64m\nRW_TMPFS_OPTIONS=suid,dev' }), facts());
  assert.is(describe(capped.steps[0]), `mount -n -t tmpfs -o mode=0755,size=64m,suid,dev tmpfs ${RW}`, 'the tmpfs options honour suid,dev');
  const fromFstab = planBoot(config({ '/etc/fstab': `none ${RW} tmpfs size=16m,mode=0700 0 0\n` }), facts());
  assert.is(describe(fromFstab.steps[0]), `mount -n -t tmpfs -o mode=0755,size=16m,mode=0700,nosuid,nodev tmpfs ${RW}`, "fstab's own size, no second one");
});

t('scratch already mounted (boot runs twice): not re-made', () => {
  const plan = planBoot(config({ '/etc/roroot.conf': 'RW_DEVICE=/dev/vda2' }), facts({ mounts: [...facts().mounts, mount(RW, '254:2', 'ext4')], blockDevices: [disk('/dev/vda2', '254:2')] }));
  assert.not.ok(plan.steps.some((s) => s.phase === 'scratch'));
  assert.ok(plan.notes.some((n) => n.startsWith(`scratch: ${RW} is already mounted`)));
});

t('missing master copy: scratch starts empty, with a warning, and no fill step', () => {
  const plan = planBoot(config({ '/etc/roroot.conf': 'RW_LABEL=' }), facts({ paths: { ...facts().paths, [MASTER]: missing } }));
  assert.equal(plan.steps.map((s) => s.id), ['scratch.tmpfs']);
  assert.ok(plan.warnings.includes(`master copy ${MASTER} is missing: the scratch space starts empty`));
});

t.run();
