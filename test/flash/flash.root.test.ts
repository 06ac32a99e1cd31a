import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { LoopDisk } from '../support/loop-disk';

// roroot flash on loop devices: what it refuses, that it writes nothing
// without --yes, and what it writes with it.

const t = suite('flash (root, loop devices)');
const REPO = resolve(__dirname, '../../..');
const BUNDLE = join(REPO, 'dist/roroot.js');
let dir: string;
let rootfs: string;

t.before.each(() => {
  dir = mkdtempSync(join(tmpdir(), 'roroot-flash-'));
  rootfs = join(dir, 'rootfs');
  for (const d of ['boot', 'sbin', 'etc']) mkdirSync(join(rootfs, d), { recursive: true });
  writeFileSync(join(rootfs, 'boot/vmlinuz-6.1.0-test'), 'kernel');
  writeFileSync(join(rootfs, 'boot/initrd.img-6.1.0-test'), 'initrd');
  writeFileSync(join(rootfs, 'sbin/roroot-init'), '#!/bin/sh\n');
  writeFileSync(join(rootfs, 'etc/roroot.conf'), 'VOLATILE=/tmp\n');
});
t.after.each(() => rmSync(dir, { recursive: true, force: true }));

const flash = (disk: string, ...extra: string[]) => spawnSync('node', [BUNDLE, 'flash', '--disk', disk, '--board', 'pc-router', '--rootfs', rootfs, ...extra], { encoding: 'utf8' });
const sum = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
// The partition table and the MBR gap: what flash writes first.
const table = (file: string) => createHash('sha256').update(readFileSync(file).subarray(0, 1 << 20)).digest('hex');

t('refuses the disk that holds the running root (asked without --yes, so nothing could be written)', () => {
  const rootDisk = execFileSync('sh', ['-c', "lsblk -no PKNAME $(findmnt -no SOURCE /) 2>/dev/null || true; findmnt -no SOURCE /"], { encoding: 'utf8' }).split('\n').filter(Boolean);
  const disk = rootDisk[0].startsWith('/dev/') ? rootDisk[0] : `/dev/${rootDisk[0]}`;
  const r = flash(disk);
  assert.is(r.status, 2);
  assert.match(r.stdout, new RegExp(`flash: refusing: ${disk} holds the running root filesystem`));
});

t('refuses a partition and a disk with a mounted partition; without --yes shows the plan and writes nothing', () => {
  const disk = LoopDisk.create(join(dir, 'disk.img'), 600, [8, 0]);
  try {
    const r1 = flash(disk.partition(1), '--yes');
    assert.is(r1.status, 2);
    assert.match(r1.stdout, /is a partition: give the whole disk/);
    execFileSync('mkfs.ext4', ['-q', disk.partition(1)]);
    const r2 = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', `mkdir -p ${dir}/m; mount ${disk.partition(1)} ${dir}/m; node ${BUNDLE} flash --disk ${disk.device} --board pc-router --rootfs ${rootfs} --yes`], { encoding: 'utf8' });
    assert.is(r2.status, 2);
    assert.match(r2.stdout, new RegExp(`flash: refusing: ${disk.device} has mounted filesystems: ${dir}/m`));
    const before = sum(disk.image);
    const r3 = flash(disk.device);
    assert.is(r3.status, 1);
    assert.match(r3.stdout, /  \/dev\/loop\d+p1  root     448 MiB\n  \/dev\/loop\d+p2  scratch  64 MiB\n  \/dev\/loop\d+p3  swap     32 MiB\n/);
    assert.match(r3.stdout, /EVERYTHING ON \/dev\/loop\d+ WILL BE LOST\. Run again with --yes/);
    assert.is(sum(disk.image), before, 'not a byte written');
  } finally {
    disk.detach();
  }
});

t('refuses a disk with something stacked on a partition, or active swap on one, before a byte is written, in one line; a --disk symlink is the disk', () => {
  const disk = LoopDisk.create(join(dir, 'disk.img'), 2000, [8, 8, 0]);
  try {
    execFileSync('mkfs.ext4', ['-q', disk.partition(2)]);
    execFileSync('mkswap', ['-q', disk.partition(1)]);
    const before = table(disk.image);
    // A loop device over p2 with a filesystem mounted from it: nothing is
    // mounted from the disk itself, and /sys/block/loopN/holders is empty.
    const stacked = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', `l=$(losetup --find --show ${disk.partition(2)}); mkdir -p ${dir}/m; mount $l ${dir}/m; node ${BUNDLE} flash --disk ${disk.device} --board pc-router --rootfs ${rootfs} --yes; echo "rc=$?"; umount ${dir}/m; losetup -d $l`], { encoding: 'utf8' });
    assert.match(stacked.stdout, new RegExp(`flash: refusing: ${disk.device} is in use: loop\\d+ on ${disk.partition(2).slice(5)}\nrc=2`), stacked.stdout + stacked.stderr);
    assert.not.match(stacked.stdout + stacked.stderr, /at \S+ \(/, 'no stack trace');
    assert.is(table(disk.image), before, 'the partition table not touched');
    const swap = spawnSync('sh', ['-c', `swapon ${disk.partition(1)} && { node ${BUNDLE} flash --disk ${disk.device} --board pc-router --rootfs ${rootfs} --yes; echo "rc=$?"; swapoff ${disk.partition(1)}; }`], { encoding: 'utf8' });
    assert.match(swap.stdout, new RegExp(`flash: refusing: ${disk.device} has active swap: ${disk.partition(1)}\nrc=2`), swap.stdout + swap.stderr);
    assert.is(table(disk.image), before, 'the partition table not touched');
    const link = join(dir, 'by-id-link');
    execFileSync('ln', ['-s', disk.device, link]);
    const shown = flash(link);
    assert.match(shown.stdout, new RegExp(`flash: board pc-router onto ${disk.device} \\(`), 'the disk by its own name: partitions are named from it');
    assert.match(shown.stdout, new RegExp(`  ${disk.device}p1  root`));
  } finally {
    disk.detach();
  }
});

t('with --yes: the layout, the root filled from the tree with the per-disk files, extlinux in the MBR', () => {
  const disk = LoopDisk.create(join(dir, 'disk.img'), 600, [1]);
  try {
    const r = flash(disk.device, '--yes');
    assert.is(r.status, 0, r.stdout + r.stderr);
    const dump = execFileSync('sfdisk', ['--dump', disk.device], { encoding: 'utf8' });
    const id = /label-id: 0x([0-9a-f]{8})/.exec(dump)?.[1] as string;
    assert.match(dump, /p1 : start=\s*8192, size=\s*917504, type=83, bootable/);
    assert.match(dump, /p2 : start=\s*\d+, size=\s*131072, type=83/);
    assert.match(dump, /p3 : start=\s*\d+, size=\s*65536, type=82/);
    // 4 KiB blocks: mke2fs made a root under 512 MiB a "small" filesystem of 1 KiB blocks.
    assert.match(execFileSync('dumpe2fs', ['-h', disk.partition(1)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }), /^Block size:\s+4096$/m);
    const cat = (p: string) => execFileSync('debugfs', ['-R', `cat ${p}`, disk.partition(1)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    assert.match(cat('/etc/fstab'), new RegExp(`PARTUUID=${id}-01 / ext4 ro,errors=remount-ro 0 0\\nPARTUUID=${id}-03 none swap sw 0 0`));
    assert.is(cat('/etc/roroot.conf'), `VOLATILE=/tmp\nRW_DEVICE=PARTUUID=${id}-02\nRW_FSTYPE=ext2\n`);
    assert.match(cat('/boot/extlinux/extlinux.conf'), new RegExp(`KERNEL /boot/vmlinuz-6.1.0-test\\n  INITRD /boot/initrd.img-6.1.0-test\\n  APPEND root=PARTUUID=${id}-01 ro console=ttyS0,115200`));
    assert.match(execFileSync('debugfs', ['-R', 'ls /boot/extlinux', disk.partition(1)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }), /ldlinux\.sys/);
    assert.equal(readFileSync(disk.image).subarray(0, 440), readFileSync('/usr/lib/EXTLINUX/mbr.bin').subarray(0, 440), 'extlinux MBR code');
    assert.is(execFileSync('blkid', ['-c', '/dev/null', '-o', 'value', '-s', 'TYPE', disk.partition(2)], { encoding: 'utf8' }).trim(), 'ext2', 'the scratch, as the board says');
    assert.is(readFileSync(join(rootfs, 'etc/roroot.conf'), 'utf8'), 'VOLATILE=/tmp\n', 'the source tree is not changed');
  } finally {
    disk.detach();
  }
});

t('SLOTS=2 (qemu-ab): boot, slot A, slot B, then scratch and state as logical partitions whose EBRs lie in no partition; GRUB in the MBR and its gap; the records on the boot partition; slot A names no device of the disk', () => {
  const disk = LoopDisk.create(join(dir, 'disk.img'), 1100, [1]);
  try {
    const r = spawnSync('node', [BUNDLE, 'flash', '--disk', disk.device, '--board', 'qemu-ab', '--rootfs', rootfs, '--yes'], { encoding: 'utf8' });
    assert.is(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /p1  boot     4 MiB\n.*p2  root     448 MiB\n.*p3  root-b   448 MiB\n.*p5  scratch  96 MiB\n.*p6  state    16 MiB\n/);
    const dump = execFileSync('sfdisk', ['--dump', disk.device], { encoding: 'utf8' });
    const id = /label-id: 0x([0-9a-f]{8})/.exec(dump)?.[1] as string;
    const parts = [...dump.matchAll(/p(\d) : start=\s*(\d+), size=\s*(\d+), type=(\w+)/g)].map((m) => ({ n: Number(m[1]), start: Number(m[2]), size: Number(m[3]), type: m[4] }));
    assert.equal(parts.map((p) => [p.n, p.type]), [[1, '83'], [2, '83'], [3, '83'], [4, '5'], [5, '83'], [6, '83']]);
    assert.match(dump, /p1 : start=\s*8192, size=\s*8192, type=83, bootable/);
    // Follow the EBR chain from the extended partition's start.
    const at = (offset: number, length: number) => {
      const b = Buffer.alloc(length);
      const fd = openSync(disk.image, 'r');
      readSync(fd, b, 0, length, offset);
      closeSync(fd);
      return b;
    };
    const ext = parts.find((p) => p.n === 4) as { start: number };
    const ebrs: number[] = [];
    for (let sector = ext.start; ebrs.length < 8; ) {
      ebrs.push(sector);
      const next = at(sector * 512 + 446 + 16 + 8, 4).readUInt32LE(0);
      if (next === 0) break;
      sector = ext.start + next;
    }
    assert.is(ebrs.length, 2, 'one EBR per logical partition');
    for (const e of ebrs) assert.ok(!parts.some((p) => p.n !== 4 && e >= p.start && e < p.start + p.size), `the EBR at sector ${e} lies in no partition`);
    for (const p of parts.filter((x) => x.n !== 4)) assert.is(p.start % 8192, 0, `p${p.n} starts on a 4 MiB erase block`);
    // GRUB: boot.img's code in the MBR, its core image from sector 1.
    assert.equal(at(0, 440), readFileSync('/usr/lib/grub/i386-pc/boot.img').subarray(0, 440));
    assert.equal(at(512, 300), readFileSync('/usr/lib/grub/i386-pc/diskboot.img').subarray(0, 300), 'the core image starts with diskboot.img');
    const cat = (part: string, p: string) => execFileSync('debugfs', ['-R', `cat ${p}`, part], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const cfg = cat(disk.partition(1), '/grub/grub.cfg');
    assert.match(cfg, new RegExp(`linux \\(hd0,msdos2\\)/vmlinuz root=PARTUUID=${id}-02 ro console=ttyS0,115200 ip=dhcp init=/sbin/roroot-init panic=10 roroot.boot=PARTUUID=${id}-01 roroot.slot_a=PARTUUID=${id}-02 roroot.slot_b=PARTUUID=${id}-03 roroot.rw_device=PARTUUID=${id}-05 roroot.slot=a`));
    assert.match(cfg, new RegExp(`linux \\(hd0,msdos3\\)/vmlinuz root=PARTUUID=${id}-03 .* roroot.slot=b`));
    assert.match(cat(disk.partition(1), '/roroot/state0'), /^# GRUB Environment Block\ns0_seq=1\ns0_default=a\ns0_trial=none\n/);
    assert.match(cat(disk.partition(1), '/roroot/tries'), /^# GRUB Environment Block\ntries=0\n/);
    assert.not.match(cat(disk.partition(2), '/etc/fstab'), /PARTUUID/, 'slot A names no partition: an update lands in either slot');
    assert.is(cat(disk.partition(2), '/etc/roroot.conf'), 'VOLATILE=/tmp\nRW_DEVICE=\nRW_LABEL=\nRW_FSTYPE=ext4\n');
    assert.is(execFileSync('blkid', ['-c', '/dev/null', '-o', 'value', '-s', 'LABEL', disk.partition(6)], { encoding: 'utf8' }).trim(), 'roroot-state');
  } finally {
    disk.detach();
  }
});

t.run();
