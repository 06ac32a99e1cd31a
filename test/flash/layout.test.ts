import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseBoard } from '../../init/config/board';
import { diskSettings, extlinuxConf, fstabFor, grubAppend, layoutFor, sfdiskScript } from '../../init/flash/layout';

const t = suite('flash/layout');
const board = (name: string) => {
  const file = join(__dirname, `../../../board/${name}.conf`);
  const { board: b, diagnostics } = parseBoard(name, file, readFileSync(file, 'utf8'));
  assert.equal(diagnostics, []);
  return b!;
};
// The line a key sits on in a shipped profile: the profiles grow, the test must not pin their line numbers.
const lineOf = (text: string, key: string) => text.split('\n').findIndex((l) => l.startsWith(`${key}=`)) + 1;

t('the shipped board profiles parse without a problem', () => {
  assert.is(board('qemu-x86_64').disk, '/dev/vda');
  assert.is(board('pc-router').rwFs, 'ext2');
  assert.equal(board('qemu-fleet').scratch, { kind: 'disk', device: '/dev/vdb' });
  assert.equal([board('qemu-static-dev').init, board('qemu-static-dev').dev], ['sysvinit', 'static']);
});

t('a static /dev needs sysvinit: systemd mounts devtmpfs over it', () => {
  const file = join(__dirname, '../../../board/qemu-static-dev.conf');
  const text = readFileSync(file, 'utf8');
  const { board: b, diagnostics } = parseBoard('x', 'x.conf', text.replace('INIT=sysvinit', 'INIT=systemd'));
  assert.is(b, null);
  assert.equal(diagnostics.map((d) => `${d.line}: ${d.message}`), [`${lineOf(text, 'DEV')}: DEV=static: needs INIT=sysvinit (systemd mounts devtmpfs on /dev itself)`]);
});

t('a bad profile is reported key by key', () => {
  const { board: b, diagnostics } = parseBoard('x', 'x.conf', 'DISK=sda\nRW_FS=xfs\nROOT_SIZE_MIB=big\nEXTRA=1\nEXTRA_MODULE_DIRS="drivers/watchdog /lib/modules ../x"\n');
  assert.is(b, null);
  const messages = diagnostics.map((d) => d.message);
  assert.ok(messages.includes('RW_FS: expected ext2, ext3 or ext4, got "xfs"'));
  assert.ok(messages.includes('DISK: expected a /dev path, got "sda"'));
  assert.ok(messages.includes('ROOT_SIZE_MIB: expected a size in MiB of at least 256, got "big"'));
  assert.ok(messages.includes('CONSOLE is missing'));
  assert.ok(messages.includes('unknown key EXTRA'));
  assert.equal(
    diagnostics.filter((d) => d.message.startsWith('EXTRA_MODULE_DIRS')).map((d) => `${d.line}: ${d.message}`),
    ['5: EXTRA_MODULE_DIRS: "/lib/modules" is not a directory under /lib/modules/RELEASE/kernel (such as drivers/watchdog)', '5: EXTRA_MODULE_DIRS: "../x" is not a directory under /lib/modules/RELEASE/kernel (such as drivers/watchdog)'],
  );
});

t('pc-router: root (bootable), scratch, swap, each from an erase block of its own; PARTUUIDs from the disk id', () => {
  const b = board('pc-router');
  const layout = layoutFor(b, 'c0ffee00');
  assert.is(sfdiskScript(layout), 'label: dos\nlabel-id: 0xc0ffee00\n1: start=4MiB, size=448MiB, type=L, bootable\n2: start=452MiB, size=64MiB, type=L\n3: start=516MiB, size=32MiB, type=S\n');
  assert.is(layout.minDiskMiB, 4 + 448 + 64 + 32);
  assert.is(fstabFor(b, layout), '# Written by roroot flash for this disk. / is read-only: see roroot(8).\nPARTUUID=c0ffee00-01 / ext4 ro,errors=remount-ro 0 0\nPARTUUID=c0ffee00-03 none swap sw 0 0\n');
  assert.match(
    extlinuxConf(b, layout, '/boot/vmlinuz-6.1', '/boot/initrd.img-6.1'),
    /SERIAL 0 115200\n[\s\S]*APPEND root=PARTUUID=c0ffee00-01 ro console=ttyS0,115200 ip=dhcp init=\/sbin\/roroot-init\n/,
  );
});

t('qemu-fleet: one root partition, fsck pass 0, the scratch is a disk of its own', () => {
  const b = board('qemu-fleet');
  const layout = layoutFor(b, 'f1ee7000');
  assert.is(sfdiskScript(layout), 'label: dos\nlabel-id: 0xf1ee7000\n1: start=4MiB, size=448MiB, type=L, bootable\n');
  assert.match(fstabFor(b, layout), /\nPARTUUID=f1ee7000-01 \/ ext4 ro,errors=remount-ro 0 0\n$/);
  assert.equal(diskSettings(b, layout), { RW_DEVICE: '/dev/vdb', RW_FSTYPE: 'ext4' });
  const tmpfs = { ...b, scratch: { kind: 'tmpfs' as const } };
  assert.equal(diskSettings(tmpfs, layoutFor(tmpfs, 'f1ee7000')), { RW_DEVICE: '', RW_LABEL: '', RW_FSTYPE: 'ext4' }, 'tmpfs: no device, no label to look for');
});

t('a partition whose size is not a whole number of erase blocks leaves a gap: the next one still starts on its own block', () => {
  const b = { ...board('pc-router'), eraseBlockMiB: 8, rootSizeMiB: 1001, rwSizeMiB: 9 };
  const starts = layoutFor(b, 'c0ffee00').partitions.map((p) => [p.role, p.startMiB, p.sizeMiB]);
  assert.equal(starts, [['root', 8, 1001], ['scratch', 1016, 9], ['swap', 1032, 32]]);
  assert.is(layoutFor(b, 'c0ffee00').minDiskMiB, 1064, 'the disk ends on a whole erase block');
  const mib = { ...b, eraseBlockMiB: 1 };
  assert.equal(layoutFor(mib, 'c0ffee00').partitions.map((p) => p.startMiB), [1, 1002, 1011], '1MiB: partitions back to back, as before ERASE_BLOCK');
});

t('ERASE_BLOCK: a power of two in MiB', () => {
  const file = join(__dirname, '../../../board/qemu-x86_64.conf');
  const text = readFileSync(file, 'utf8');
  for (const bad of ['3MiB', '4', '4M', '512KiB', '0MiB', '512MiB']) {
    const { diagnostics } = parseBoard('x', 'x.conf', text.replace('ERASE_BLOCK=4MiB', `ERASE_BLOCK=${bad}`));
    assert.equal(diagnostics.map((d) => `${d.line}: ${d.message}`), [`${lineOf(text, 'ERASE_BLOCK')}: ERASE_BLOCK: expected a power of two from 1MiB to 256MiB, got "${bad}"`]);
  }
  assert.is(parseBoard('x', 'x.conf', text.replace('ERASE_BLOCK=4MiB', 'ERASE_BLOCK=16MiB')).board?.eraseBlockMiB, 16);
  assert.ok(parseBoard('x', 'x.conf', text.replace('ERASE_BLOCK=4MiB\n', '')).diagnostics.some((d) => d.message === 'ERASE_BLOCK is missing'));
});

t('a shared root refuses what would live on its read-only disk', () => {
  const file = join(__dirname, '../../../board/qemu-fleet.conf');
  const text = readFileSync(file, 'utf8').replace('SCRATCH=/dev/vdb', 'SCRATCH=partition').replace('SWAP_SIZE_MIB=0', 'SWAP_SIZE_MIB=32');
  const { board: b, diagnostics } = parseBoard('x', 'x.conf', text);
  assert.is(b, null);
  assert.equal(
    diagnostics.map((d) => `${d.line}: ${d.message}`),
    [
      `${lineOf(text, 'SCRATCH')}: SCRATCH=partition: a shared root disk is read-only, the scratch must be a disk of its own or tmpfs`,
      `${lineOf(text, 'SWAP_SIZE_MIB')}: SWAP_SIZE_MIB: must be 0 with ROOT_SHARED=yes (no partition of one machine on a shared disk)`,
    ],
  );
  assert.ok(parseBoard('x', 'x.conf', text.replace('SCRATCH=partition', 'SCRATCH=sdb')).diagnostics.some((d) => d.message === 'SCRATCH: expected partition, tmpfs or a /dev path (a disk of its own), got "sdb"'));
});

t('qemu-ab (SLOTS=2): boot, root A, root B primary; scratch and state logical in an extended partition, each after an erase block kept for its EBR', () => {
  const b = board('qemu-ab');
  const layout = layoutFor(b, 'ab000001');
  assert.equal(layout.partitions.map((p) => [p.number, p.role, p.startMiB, p.sizeMiB]), [
    [1, 'boot', 4, 4],
    [2, 'root', 8, 448],
    [3, 'root-b', 456, 448],
    [5, 'scratch', 908, 96],
    [6, 'state', 1008, 16],
  ]);
  assert.equal(layout.extended, { startMiB: 904, sizeMiB: 120 });
  assert.is(layout.minDiskMiB, 1024);
  assert.is(
    sfdiskScript(layout),
    'label: dos\nlabel-id: 0xab000001\n1: start=4MiB, size=4MiB, type=L, bootable\n2: start=8MiB, size=448MiB, type=L\n3: start=456MiB, size=448MiB, type=L\n4: start=904MiB, size=120MiB, type=Ex\n5: start=908MiB, size=96MiB, type=L\n6: start=1008MiB, size=16MiB, type=L\n',
  );
  assert.not.match(fstabFor(b, layout), /PARTUUID/, 'the root is whichever slot GRUB booted');
  assert.equal(diskSettings(b, layout), { RW_DEVICE: '', RW_LABEL: '', RW_FSTYPE: 'ext4' }, 'the scratch comes from the kernel command line');
  assert.is(grubAppend(b, layout), 'ro console=ttyS0,115200 ip=dhcp init=/sbin/roroot-init panic=10 roroot.boot=PARTUUID=ab000001-01 roroot.slot_a=PARTUUID=ab000001-02 roroot.slot_b=PARTUUID=ab000001-03 roroot.rw_device=PARTUUID=ab000001-05');
  assert.equal([b.slots, b.upgradeTries, board('qemu-x86_64').slots, board('qemu-x86_64').upgradeTries], [2, 2, 1, 3]);
});

t('SLOTS: 1 or 2; two slots want no swap; the upgrade keys only with two', () => {
  const file = join(__dirname, '../../../board/qemu-ab.conf');
  const text = readFileSync(file, 'utf8');
  const messages = (t: string) => parseBoard('x', 'x.conf', t).diagnostics.map((d) => d.message);
  assert.equal(messages(text.replace('SLOTS=2', 'SLOTS=3')), ['SLOTS: expected 1 or 2, got "3"', 'UPGRADE_TRIES: only with SLOTS=2']);
  assert.equal(messages(text.replace('SWAP_SIZE_MIB=0', 'SWAP_SIZE_MIB=32')), ["SWAP_SIZE_MIB: must be 0 with SLOTS=2 (a slot's fstab cannot name this disk's swap partition)"]);
  assert.equal(messages(text.replace('UPGRADE_TRIES=2', 'UPGRADE_TRIES=10')), ['UPGRADE_TRIES: expected a number of boots from 1 to 9 (GRUB counts one digit), got "10"']);
  assert.equal(messages(text.replace('SLOTS=2', 'SLOTS=1')), ['UPGRADE_TRIES: only with SLOTS=2']);
  assert.equal(messages(text.replace('SLOTS=2\n', '')), ['SLOTS is missing', 'UPGRADE_TRIES: only with SLOTS=2']);
});

t.run();
