import type { Board } from '../config/board';
import type { Key } from '../config/settings';

// Pure: a board's partition table and the per-disk files that name its
// partitions. MBR, because the board's BIOS boots extlinux's MBR code; the
// partitions are named by PARTUUID (<disk id>-<nn>), which lives in the
// partition table and so survives garbage written over a partition.

export type Role = 'boot' | 'root' | 'root-b' | 'scratch' | 'swap' | 'state';

export interface Partition {
  number: number;
  role: Role;
  startMiB: number;
  sizeMiB: number;
}

export interface Layout {
  diskId: string; // 8 hex digits
  partitions: Partition[];
  // SLOTS=2 has more partitions than an MBR's four: the fourth entry is an
  // extended partition over the rest, holding the others as logical ones.
  extended: { startMiB: number; sizeMiB: number } | null;
  minDiskMiB: number;
}

// The boot partition of a SLOTS=2 board: GRUB's grub.cfg and the boot
// records (init/upgrade/boot-state.ts), a few KiB; one erase block.
const BOOT_SIZE_MIB = 4;

// Every partition starts on an erase block of its own (ERASE_BLOCK): a
// scratch or state write in flight when power goes can damage its whole
// erase block, and with 1 MiB alignment the root's last MiB shared one with
// the scratch. The first block holds only the MBR (and GRUB's core image
// after it on a SLOTS=2 board), written at flash time.
//
// A logical partition is described by an EBR in the sector sfdisk puts
// 1 MiB before it: checked with sfdisk 2.38, back to back logical
// partitions had the second one's EBR inside the first (a mkfs of the
// scratch would have erased the state's entry). So each logical partition
// starts one erase block after the previous end, and its EBR, written at
// flash time only, sits in that block of no partition.
export function layoutFor(board: Board, diskId: string): Layout {
  const parts: Omit<Partition, 'number' | 'startMiB'>[] = [];
  const block = board.eraseBlockMiB;
  if (board.slots === 2) parts.push({ role: 'boot', sizeMiB: Math.max(BOOT_SIZE_MIB, block) }, { role: 'root', sizeMiB: board.rootSizeMiB }, { role: 'root-b', sizeMiB: board.rootSizeMiB });
  else parts.push({ role: 'root', sizeMiB: board.rootSizeMiB });
  if (board.scratch.kind === 'partition') parts.push({ role: 'scratch', sizeMiB: board.rwSizeMiB });
  if (board.swapSizeMiB > 0) parts.push({ role: 'swap', sizeMiB: board.swapSizeMiB });
  if (board.stateSizeMiB > 0) parts.push({ role: 'state', sizeMiB: board.stateSizeMiB });
  const align = (mib: number) => Math.ceil(mib / block) * block;
  const logical = parts.length > 4;
  let next = block;
  let extended: Layout['extended'] = null;
  const partitions = parts.map((p, i) => {
    if (logical && i === 3) extended = { startMiB: next, sizeMiB: 0 };
    if (logical && i >= 3) next += block; // the EBR's block
    const startMiB = next;
    next = align(startMiB + p.sizeMiB);
    return { ...p, number: logical && i >= 3 ? i + 2 : i + 1, startMiB };
  });
  if (extended) (extended as { startMiB: number; sizeMiB: number }).sizeMiB = next - (extended as { startMiB: number }).startMiB;
  return { diskId, partitions, extended, minDiskMiB: next };
}

export function hasRole(layout: Layout, role: Role): boolean {
  return layout.partitions.some((p) => p.role === role);
}

export function partuuid(layout: Layout, role: Role): string {
  const p = layout.partitions.find((x) => x.role === role);
  if (!p) throw new Error(`no ${role} partition`);
  return `PARTUUID=${layout.diskId}-${String(p.number).padStart(2, '0')}`;
}

export function sfdiskScript(layout: Layout): string {
  const type = (r: Role) => (r === 'swap' ? 'S' : 'L');
  // The partition a BIOS would boot: GRUB's on a SLOTS=2 board.
  const bootable = hasRole(layout, 'boot') ? 'boot' : 'root';
  const entry = (p: Partition) => `${p.number}: start=${p.startMiB}MiB, size=${p.sizeMiB}MiB, type=${type(p.role)}${p.role === bootable ? ', bootable' : ''}`;
  return [
    'label: dos',
    `label-id: 0x${layout.diskId}`,
    ...layout.partitions.filter((p) => p.number <= 4).map(entry),
    ...(layout.extended ? [`4: start=${layout.extended.startMiB}MiB, size=${layout.extended.sizeMiB}MiB, type=Ex`] : []),
    ...layout.partitions.filter((p) => p.number > 4).map(entry),
    '',
  ].join('\n');
}

export function fstabFor(board: Board, layout: Layout): string {
  // No fsck of the root at boot (pass 0): roroot writes it only in a
  // read-write window, whose metadata ext4's journal carries and the
  // kernel's mount replays after a cut, and e2fsck at boot is itself a
  // writer outside any window (what ext4 records as errors is said at
  // every boot instead: sys/root-errors.ts). Tried 2026-12-02 in the
  // initramfs: its e2fsck -p wrote two blocks of the clean root at every
  // boot (the power-cut harness's write log), and the A/B upgrade's trial
  // ended on the old slot. Until then pass 1, and systemd-fsck-root's
  // check after the boot stage took 1.75 s of a TCG boot. A shared root
  // could not be checked anyway (e2fsck cannot open a read-only device).
  // Two slots: the root is the slot GRUB booted, named by root= on the
  // kernel command line; the same image lands in either slot.
  const lines =
    board.slots === 2
      ? ['# Written for a SLOTS=2 board: / is the slot GRUB booted (root= on the kernel command line), read-only.']
      : ['# Written by roroot flash for this disk. / is read-only: see roroot(8).', `${partuuid(layout, 'root')} / ${board.rootFs} ro,errors=remount-ro 0 0`];
  if (hasRole(layout, 'swap')) lines.push(`${partuuid(layout, 'swap')} none swap sw 0 0`);
  return lines.join('\n') + '\n';
}

// The boot stage's view of this disk, set in the image's roroot.conf. A
// tmpfs board names no device and no label, so the boot stage looks for
// none and mounts tmpfs at once.
export function diskSettings(board: Board, layout: Layout): Partial<Record<Key, string>> {
  // Two slots: the scratch is named by roroot.rw_device= on the kernel
  // command line (grubAppend), the slot's image cannot know the disk.
  if (board.slots === 2) return { RW_DEVICE: '', RW_LABEL: '', RW_FSTYPE: board.rwFs };
  const scratch = board.scratch;
  const device = scratch.kind === 'partition' ? { RW_DEVICE: partuuid(layout, 'scratch') } : scratch.kind === 'disk' ? { RW_DEVICE: scratch.device } : { RW_DEVICE: '', RW_LABEL: '' };
  return { ...device, RW_FSTYPE: board.rwFs };
}

// ip=dhcp names no interface: the initramfs's network hook (roroot-net)
// takes the first Ethernet device. A name on the command line was a guess
// at what udev would call the NIC (eth0 or ens2?), and a wrong guess cost
// the boot 180 s of waiting and its network.
export function extlinuxConf(board: Board, layout: Layout, kernel: string, initrd: string): string {
  const port = /^ttyS([0-9])$/.exec(board.console)?.[1] ?? '0';
  return [
    '# Written by roroot flash.',
    `SERIAL ${port} ${board.consoleSpeed}`,
    'DEFAULT roroot',
    'TIMEOUT 10',
    'LABEL roroot',
    `  KERNEL ${kernel}`,
    `  INITRD ${initrd}`,
    `  APPEND root=${partuuid(layout, 'root')} ro console=${board.console},${board.consoleSpeed} ip=dhcp init=/sbin/roroot-init`,
    '',
  ].join('\n');
}

// The kernel command line GRUB gives either slot (init/flash/grub.ts adds
// root= and roroot.slot=): the disk's own devices, which an update's image
// cannot know (init/config/cmdline.ts), and panic=10, so that a slot whose
// kernel panics reboots and spends a try instead of hanging there.
export function grubAppend(board: Board, layout: Layout): string {
  const devices = [`roroot.boot=${partuuid(layout, 'boot')}`, `roroot.slot_a=${partuuid(layout, 'root')}`, `roroot.slot_b=${partuuid(layout, 'root-b')}`];
  if (hasRole(layout, 'scratch')) devices.push(`roroot.rw_device=${partuuid(layout, 'scratch')}`);
  return `ro console=${board.console},${board.consoleSpeed} ip=dhcp init=/sbin/roroot-init panic=10 ${devices.join(' ')}`;
}
