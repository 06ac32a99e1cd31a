import type { Board } from '../config/board';
import type { Key } from '../config/settings';

// Pure: a board's partition table and the per-disk files that name its
// partitions. MBR, because the board's BIOS boots extlinux's MBR code; the
// partitions are named by PARTUUID (<disk id>-<nn>), which lives in the
// partition table and so survives garbage written over a partition.

export type Role = 'root' | 'scratch' | 'swap' | 'state';

export interface Partition {
  number: number;
  role: Role;
  startMiB: number;
  sizeMiB: number;
}

export interface Layout {
  diskId: string; // 8 hex digits
  partitions: Partition[];
  minDiskMiB: number;
}

// Every partition starts on an erase block of its own (ERASE_BLOCK): a
// scratch or state write in flight when power goes can damage its whole
// erase block, and with 1 MiB alignment the root's last MiB shared one with
// the scratch. The first block holds only the MBR, written at flash time.
export function layoutFor(board: Board, diskId: string): Layout {
  const parts: Omit<Partition, 'number' | 'startMiB'>[] = [{ role: 'root', sizeMiB: board.rootSizeMiB }];
  if (board.scratch.kind === 'partition') parts.push({ role: 'scratch', sizeMiB: board.rwSizeMiB });
  if (board.swapSizeMiB > 0) parts.push({ role: 'swap', sizeMiB: board.swapSizeMiB });
  if (board.stateSizeMiB > 0) parts.push({ role: 'state', sizeMiB: board.stateSizeMiB });
  const block = board.eraseBlockMiB;
  const align = (mib: number) => Math.ceil(mib / block) * block;
  let next = block;
  const partitions = parts.map((p, i) => {
    const startMiB = next;
    next = align(startMiB + p.sizeMiB);
    return { ...p, number: i + 1, startMiB };
  });
  return { diskId, partitions, minDiskMiB: next };
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
  return [
    'label: dos',
    `label-id: 0x${layout.diskId}`,
    ...layout.partitions.map((p) => `${p.number}: start=${p.startMiB}MiB, size=${p.sizeMiB}MiB, type=${type(p.role)}${p.role === 'root' ? ', bootable' : ''}`),
    '',
  ].join('\n');
}

export function fstabFor(board: Board, layout: Layout): string {
  // A shared root is opened read-only by every machine: fsck at boot could
  // only fail on it (e2fsck cannot open a read-only device), so pass 0.
  const pass = board.rootShared ? 0 : 1;
  const lines = [
    '# Written by roroot flash for this disk. / is read-only: see roroot(8).',
    `${partuuid(layout, 'root')} / ${board.rootFs} ro,errors=remount-ro 0 ${pass}`,
  ];
  if (hasRole(layout, 'swap')) lines.push(`${partuuid(layout, 'swap')} none swap sw 0 0`);
  return lines.join('\n') + '\n';
}

// The boot stage's view of this disk, set in the image's roroot.conf. A
// tmpfs board names no device and no label, so the boot stage looks for
// none and mounts tmpfs at once.
export function diskSettings(board: Board, layout: Layout): Partial<Record<Key, string>> {
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
