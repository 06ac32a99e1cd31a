import { closeSync, constants, existsSync, fsyncSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Board } from '../config/board';
import { setSettings } from '../config/settings';
import { majorMinor, readMounts } from '../sys/probe';
import { runChecked } from '../sys/spawn';
import { encodeRecord, encodeTries } from '../upgrade/boot-state';
import { nodeCrypto } from '../sys/crypto';
import { grubCfg, STATE_FILES, TRIES_FILE } from './grub';
import { diskSettings, extlinuxConf, fstabFor, grubAppend, hasRole, layoutFor, partuuid, sfdiskScript, type Layout, type Role } from './layout';

// `roroot flash`: the board's layout onto a whole disk, the root filesystem
// filled from a prepared tree in one pass (mkfs.ext4 -d), extlinux in the
// MBR; on a SLOTS=2 board the tree goes into slot A, GRUB into the MBR and
// its boot partition. The image builder runs it on a loop device; an admin
// on /dev/sdX.

const EXTLINUX_MBR = '/usr/lib/EXTLINUX/mbr.bin';
const GRUB_DIR = '/usr/lib/grub/i386-pc';
// What GRUB's core image needs to read the boot partition and run
// grub.cfg (grub.ts): no module is loaded from the disk afterwards.
const GRUB_MODULES = ['biosdisk', 'part_msdos', 'ext2', 'normal', 'configfile', 'loadenv', 'test', 'serial', 'terminal', 'linux', 'echo'];

export interface FlashOptions {
  disk: string;
  board: Board;
  rootfs: string;
  yes: boolean;
  say: (line: string) => void;
}

interface DiskFacts {
  path: string; // the disk's own /dev name, symlinks (/dev/disk/by-id/...) resolved
  name: string; // sda, loop0, nvme0n1
  sizeMiB: number;
  numbers: Set<string>; // major:minor of the disk and its partitions
}

function readDisk(disk: string): DiskFacts | string {
  let real: string;
  try {
    real = realpathSync(disk);
    if (!statSync(real).isBlockDevice()) return `${disk} is not a block device`;
  } catch {
    return `${disk} does not exist`;
  }
  const name = basename(real);
  const sys = `/sys/class/block/${name}`;
  if (existsSync(`${sys}/partition`)) return `${disk} is a partition: give the whole disk`;
  const parts = readdirSync(sys).filter((e) => e.startsWith(name) && existsSync(`${sys}/${e}/partition`));
  const numbers = new Set([readFileSync(`${sys}/dev`, 'utf8').trim(), ...parts.map((p) => readFileSync(`${sys}/${p}/dev`, 'utf8').trim())]);
  // Anything stacked on the disk or on one of its partitions: a loop, dm,
  // md or LUKS device, a btrfs or LVM member.
  const holders = [name, ...parts].flatMap((n) => readdirSync(n === name ? `${sys}/holders` : `${sys}/${n}/holders`).map((h) => `${h} on ${n}`));
  // A loop device is no holder: its backing file names what it sits on.
  const number = (p: string) => readFileSync(`/sys/class/block/${p}/dev`, 'utf8').trim();
  const mine = new Map([name, ...parts].map((n) => [number(n), n]));
  for (const loop of readdirSync('/sys/block').filter((n) => n.startsWith('loop'))) {
    const backing = readOptional(`/sys/block/${loop}/loop/backing_file`)?.trim();
    const under = backing && existsSync(backing) && statSync(backing).isBlockDevice() ? mine.get(majorMinor(statSync(backing).rdev)) : undefined;
    if (under) holders.push(`${loop} on ${under}`);
  }
  if (holders.length > 0) return `${disk} is in use: ${holders.join(', ')}`;
  const sizeMiB = Math.floor((Number(readFileSync(`${sys}/size`, 'utf8')) * 512) / (1 << 20));
  return { path: real, name, sizeMiB, numbers };
}

// Refuses a disk with anything mounted from it (the running root above
// all), active swap on it, or anything else holding it or a partition: the
// kernel refuses an O_EXCL open of a block device in use, whoever uses it.
function refusal(disk: string, facts: DiskFacts): string | null {
  const busy = readMounts('/').filter((m) => facts.numbers.has(m.device));
  if (busy.some((m) => m.target === '/')) return `${disk} holds the running root filesystem`;
  if (busy.length > 0) return `${disk} has mounted filesystems: ${busy.map((m) => m.target).join(', ')}`;
  const swaps = readFileSync('/proc/swaps', 'utf8').split('\n').slice(1).map((l) => l.split(/\s+/)[0]).filter((dev) => dev && existsSync(dev) && facts.numbers.has(majorMinor(statSync(dev).rdev)));
  if (swaps.length > 0) return `${disk} has active swap: ${swaps.join(', ')}`;
  for (const dev of [facts.path, ...readdirSync(`/sys/class/block/${facts.name}`).filter((e) => e.startsWith(facts.name) && existsSync(`/dev/${e}`)).map((e) => `/dev/${e}`)]) {
    try {
      closeSync(openSync(dev, constants.O_RDONLY | constants.O_EXCL));
    } catch (err) {
      return `${dev} is in use (${(err as NodeJS.ErrnoException).code})`;
    }
  }
  return null;
}

// The root filesystem from a tree in one pass; also an update's slot image
// (board/image.ts --update). extlinux 6.04 reads neither 64bit nor
// metadata_csum ext4. -T default: mke2fs makes a root under 512 MiB a
// "small" filesystem (1 KiB blocks, an inode per 4 KiB: 25 MiB of inode
// tables for a router-sized root).
export function rootMkfsArgs(tree: string): string[] {
  return ['-q', '-F', '-L', 'roroot-root', '-T', 'default', '-O', '^64bit,^metadata_csum', '-d', tree];
}

export function partitionPath(disk: string, n: number): string {
  return /[0-9]$/.test(disk) ? `${disk}p${n}` : `${disk}${n}`;
}

export async function flash(opts: FlashOptions): Promise<number> {
  const { board, say } = opts;
  const facts = readDisk(opts.disk);
  if (typeof facts === 'string') return refuse(say, facts);
  const why = refusal(opts.disk, facts);
  if (why) return refuse(say, why);
  const disk = facts.path;
  if (!existsSync(join(opts.rootfs, 'sbin/roroot-init'))) return refuse(say, `${opts.rootfs} has no /sbin/roroot-init: install the roroot package into it first`);
  const kernel = newest(opts.rootfs, 'vmlinuz-');
  const initrd = newest(opts.rootfs, 'initrd.img-');
  if (!kernel || !initrd) return refuse(say, `${opts.rootfs}/boot has no vmlinuz-* and initrd.img-*`);
  const layout = layoutFor(board, nodeCrypto().randomBytes(4).toString('hex'));
  if (facts.sizeMiB < layout.minDiskMiB) return refuse(say, `${disk} has ${facts.sizeMiB} MiB, board ${board.name} needs ${layout.minDiskMiB} MiB`);

  say(`flash: board ${board.name} onto ${disk} (${facts.sizeMiB} MiB), disk id ${layout.diskId}:`);
  for (const p of layout.partitions) say(`  ${partitionPath(disk, p.number)}  ${p.role.padEnd(8)} ${p.sizeMiB} MiB`);
  say(`  ${board.slots === 2 ? 'slot A' : 'root'} filled from ${opts.rootfs}, ${board.slots === 2 ? 'GRUB' : 'extlinux'} in the MBR, kernel ${kernel}`);
  if (!opts.yes) {
    say(`flash: EVERYTHING ON ${disk} WILL BE LOST. Run again with --yes to write it.`);
    return 1;
  }
  const t0 = Date.now();
  await runChecked('sfdisk', ['-q', '--wipe', 'always', '--wipe-partitions', 'always', disk], { input: sfdiskScript(layout) });
  await runChecked('partx', ['-u', disk]);
  await waitFor(layout.partitions.map((p) => partitionPath(disk, p.number)));
  const part = (role: Role) => partitionPath(disk, (layout.partitions.find((p) => p.role === role) as { number: number }).number);
  await runChecked('mkfs.ext4', [...rootMkfsArgs(opts.rootfs), part('root')], { timeoutSec: 1800 });
  say(`flash: root filesystem written (${Math.round((Date.now() - t0) / 1000)} s)`);
  if (hasRole(layout, 'scratch')) await runChecked(`mkfs.${board.rwFs}`, ['-q', '-F', '-L', 'roroot-rw', part('scratch')]);
  if (hasRole(layout, 'swap')) await runChecked('mkswap', ['-L', 'roroot-swap', part('swap')]);
  if (hasRole(layout, 'state')) await runChecked('mkfs.ext4', ['-q', '-F', '-L', board.stateLabel, part('state')]);
  await rootFiles(board, layout, part('root'), kernel, initrd, opts.rootfs);
  if (board.slots === 2) await installGrub(board, layout, disk, part('boot'));
  else writeBootCode(disk, readFileSync(EXTLINUX_MBR).subarray(0, 440));
  await runChecked('sync', [], { timeoutSec: 600 });
  say(`flash: done in ${Math.round((Date.now() - t0) / 1000)} s`);
  return 0;
}

function readOptional(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

function refuse(say: (l: string) => void, why: string): number {
  say(`flash: refusing: ${why}`);
  return 2;
}

function newest(rootfs: string, prefix: string): string | null {
  const names = readdirSync(join(rootfs, 'boot')).filter((n) => n.startsWith(prefix)).sort();
  return names.length > 0 ? `/boot/${names[names.length - 1]}` : null;
}

async function waitFor(paths: string[]) {
  for (let i = 0; i < 100; i++) {
    if (paths.every((p) => existsSync(p))) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`partitions did not appear: ${paths.filter((p) => !existsSync(p)).join(', ')}`);
}

// The per-disk files go into the new filesystem, not into the source tree:
// mounted in a private mount namespace; then extlinux. On a SLOTS=2 board
// they name no device of this disk (fstabFor, diskSettings): the same tree,
// built into an update (board/image.ts --update), lands in either slot.
async function rootFiles(board: Board, layout: Layout, rootPart: string, kernel: string, initrd: string, rootfs: string) {
  const work = mkdtempSync(join(tmpdir(), 'roroot-flash-'));
  try {
    writeFileSync(join(work, 'fstab'), fstabFor(board, layout));
    const conf = join(rootfs, 'etc/roroot.conf');
    writeFileSync(join(work, 'roroot.conf'), setSettings(existsSync(conf) ? readFileSync(conf, 'utf8') : null, diskSettings(board, layout)));
    writeFileSync(join(work, 'extlinux.conf'), extlinuxConf(board, layout, kernel, initrd));
    const m = join(work, 'mnt');
    const extlinux = board.slots === 2 ? '' : `mkdir -p ${m}/boot/extlinux; cp ${work}/extlinux.conf ${m}/boot/extlinux/extlinux.conf
extlinux --install ${m}/boot/extlinux >/dev/null`;
    await runChecked('unshare', [
      '--mount',
      '--propagation',
      'private',
      'sh',
      '-euc',
      `mkdir ${m}; mount -t ext4 ${rootPart} ${m}
cp ${work}/fstab ${m}/etc/fstab
cp ${work}/roroot.conf ${m}/etc/roroot.conf
${extlinux}
umount ${m}`,
    ]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

// Boot code into the disk's first sectors, outside every partition: the
// MBR's 440 bytes (before the disk signature and the partition table), and
// GRUB's core image from sector 1.
function writeBootCode(disk: string, code: Buffer, at = 0) {
  const fd = openSync(disk, 'r+');
  try {
    writeSync(fd, code, 0, code.length, at);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

// GRUB without grub-install (which refuses a loop device and would look at
// this machine's own disks): its boot.img in the MBR, whose default
// blocklist points at sector 1, and a core image, made by grub-mkimage with
// the modules it needs and the boot partition as its prefix, in the sectors
// between the MBR and the first partition. The boot partition: grub.cfg,
// and the boot records, each file one block allocated here once and from
// then on rewritten in place (init/upgrade/slot-io.ts): slot A the
// default, nothing on trial.
async function installGrub(board: Board, layout: Layout, disk: string, bootPart: string) {
  const work = mkdtempSync(join(tmpdir(), 'roroot-grub-'));
  try {
    const tree = join(work, 'boot');
    mkdirSync(join(tree, 'grub'), { recursive: true });
    mkdirSync(join(tree, 'roroot'));
    const bootNumber = (layout.partitions.find((p) => p.role === 'boot') as { number: number }).number;
    const slots = (['a', 'b'] as const).map((slot) => {
      const role = slot === 'a' ? 'root' : 'root-b';
      return { slot, partition: (layout.partitions.find((p) => p.role === role) as { number: number }).number, partuuid: partuuid(layout, role) };
    });
    const unit = Number(/^ttyS([0-9])$/.exec(board.console)?.[1] ?? '0');
    writeFileSync(join(tree, 'grub/grub.cfg'), grubCfg({ slots, append: grubAppend(board, layout), console: { unit, speed: board.consoleSpeed } }));
    const first = { default: 'a' as const, trial: 'none' as const, sha256: '', size: 0, version: '', note: '' };
    writeFileSync(join(tree, STATE_FILES[0].slice(1)), encodeRecord(0, { ...first, seq: 1 }));
    writeFileSync(join(tree, STATE_FILES[1].slice(1)), encodeRecord(1, { ...first, seq: 0 }));
    writeFileSync(join(tree, TRIES_FILE.slice(1)), encodeTries(0));
    // 4 KiB blocks: each record file alone in its block, and so in a page
    // of its own: Linux writes the block device a page at a time, and with
    // 1 KiB blocks a write of one copy rewrote the other's sectors too (the
    // power-cut campaign's finding; with the same bytes, but storage that
    // damages what is in flight could have taken both copies).
    await runChecked('mkfs.ext2', ['-q', '-F', '-L', 'roroot-boot', '-b', '4096', '-d', tree, bootPart]);
    const core = join(work, 'core.img');
    await runChecked('grub-mkimage', ['-O', 'i386-pc', '-d', GRUB_DIR, '-o', core, '-p', `(hd0,msdos${bootNumber})/grub`, ...GRUB_MODULES]);
    const image = readFileSync(core);
    const room = layout.partitions[0].startMiB * 1024 * 1024 - 512;
    if (image.length > room) throw new Error(`GRUB's core image has ${image.length} bytes, the gap before the first partition ${room}`);
    writeBootCode(disk, image, 512);
    writeBootCode(disk, readFileSync(join(GRUB_DIR, 'boot.img')).subarray(0, 440));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
