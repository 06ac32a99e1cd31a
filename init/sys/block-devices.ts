import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, realpathSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { BlockDevice } from '../plan/facts';
import { parseBlkidExport } from './blkid';
import { hostPath } from './root-path';
import { run } from './spawn';

// Every block device of the machine, from /sys and the devices themselves:
// the partition tables give PARTUUIDs, the superblocks labels and UUIDs.
// One `blkid -c /dev/null -o export` spawn cost 0.16-0.35 s of a boot in
// the QEMU guest; reading a few sectors costs milliseconds. blkid is still
// asked about what this does not recognise (xfs, btrfs, LUKS, ...), and
// only when the config looks for a label or a UUID: a label this missed on
// a second device would let the first one pass for the only one.

const SECTOR = 512;

function readAt(fd: number, offset: number, length: number): Buffer {
  const b = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, b, got, length - got, offset + got);
    if (n === 0) break;
    got += n;
  }
  return b.subarray(0, got);
}

function text(b: Buffer): string | null {
  const end = b.indexOf(0);
  const s = b.subarray(0, end < 0 ? b.length : end).toString('utf8').trimEnd();
  return s === '' ? null : s;
}

function uuid(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// A GPT GUID: the first three fields little-endian.
function guid(b: Buffer): string {
  const le = (s: number, n: number) => Buffer.from(b.subarray(s, s + n)).reverse().toString('hex');
  return `${le(0, 4)}-${le(4, 2)}-${le(6, 2)}-${b.subarray(8, 10).toString('hex')}-${b.subarray(10, 16).toString('hex')}`;
}

export type Filesystem = Pick<BlockDevice, 'label' | 'uuid' | 'fstype'>;

// The filesystem signature at the start of a device, or null: not one of
// ours (ext2/3/4, swap, vfat), or none at all.
export function readSuperblock(head: Buffer): Filesystem | 'empty' | null {
  if (head.length >= 2048 && head.readUInt16LE(1024 + 0x38) === 0xef53) {
    const compat = head.readUInt32LE(1024 + 0x5c);
    const incompat = head.readUInt32LE(1024 + 0x60);
    const fstype = incompat & 0x2c0 ? 'ext4' : compat & 0x4 ? 'ext3' : 'ext2'; // extents, 64bit, flex_bg; has_journal
    return { label: text(head.subarray(1024 + 0x78, 1024 + 0x88)), uuid: uuid(head.subarray(1024 + 0x68, 1024 + 0x78)), fstype };
  }
  if (head.length >= 4096 && head.subarray(4086, 4096).toString('latin1') === 'SWAPSPACE2') {
    return { label: text(head.subarray(1052, 1068)), uuid: uuid(head.subarray(1036, 1052)), fstype: 'swap' };
  }
  if (head.length >= 512 && head.readUInt16LE(510) === 0xaa55) {
    const fat32 = head.subarray(0x52, 0x57).toString('latin1') === 'FAT32';
    const fat = fat32 || head.subarray(0x36, 0x39).toString('latin1') === 'FAT';
    if (fat) {
      const serial = head.readUInt32LE(fat32 ? 0x43 : 0x27).toString(16).toUpperCase().padStart(8, '0');
      const label = text(head.subarray(fat32 ? 0x47 : 0x2b, (fat32 ? 0x47 : 0x2b) + 11));
      return { label: label === 'NO NAME' ? null : label, uuid: `${serial.slice(0, 4)}-${serial.slice(4)}`, fstype: 'vfat' };
    }
  }
  return head.every((x) => x === 0) ? 'empty' : null;
}

// PARTUUIDs (and GPT's PARTLABELs) of a disk's partitions by number: MBR
// "<disk id>-<nn, hex>" as util-linux prints them, or GPT partition GUIDs.
export function readPartitionTable(fd: number): Map<number, { partuuid: string; partlabel: string | null }> {
  const out = new Map<number, { partuuid: string; partlabel: string | null }>();
  const mbr = readAt(fd, 0, SECTOR);
  if (mbr.length < SECTOR || mbr.readUInt16LE(510) !== 0xaa55) return out;
  const gpt = readAt(fd, SECTOR, SECTOR);
  if (gpt.subarray(0, 8).toString('latin1') === 'EFI PART') {
    const lba = Number(gpt.readBigUInt64LE(72));
    const count = Math.min(gpt.readUInt32LE(80), 256);
    const size = gpt.readUInt32LE(84);
    const entries = readAt(fd, lba * SECTOR, count * size);
    for (let i = 0; i < count; i++) {
      const e = entries.subarray(i * size, i * size + size);
      if (e.length === size && !e.subarray(0, 16).every((x) => x === 0)) {
        const name = e.subarray(56, 128).toString('utf16le').replace(/\0.*$/s, '');
        out.set(i + 1, { partuuid: guid(e.subarray(16, 32)), partlabel: name === '' ? null : name });
      }
    }
    return out;
  }
  const id = mbr.readUInt32LE(440).toString(16).padStart(8, '0');
  for (let n = 1; n <= 64; n++) out.set(n, { partuuid: `${id}-${n.toString(16).padStart(2, '0')}`, partlabel: null });
  return out;
}

function readOptional(file: string): string | null {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
}

// `askBlkid`: the config looks for a label or UUID, so what this does not
// recognise is asked of blkid.
export async function probeBlockDevices(root: string, askBlkid: boolean, problems: string[]): Promise<BlockDevice[]> {
  const out: BlockDevice[] = [];
  const unknown: BlockDevice[] = [];
  const tables = new Map<string, ReturnType<typeof readPartitionTable>>();
  let names: string[];
  try {
    names = readdirSync('/sys/class/block');
  } catch {
    return out; // no sysfs yet: no device
  }
  for (const name of names) {
    const sys = `/sys/class/block/${name}`;
    const number = readOptional(`${sys}/dev`);
    const sizeBytes = Number(readOptional(`${sys}/size`) ?? 0) * SECTOR;
    if (!number || sizeBytes === 0) continue; // an unbound loop, a drive without its medium
    // Only partitions have the file: asked first, a whole disk costs no exception.
    const partNo = existsSync(`${sys}/partition`) ? Number(readOptional(`${sys}/partition`) ?? 0) : 0;
    const partitions = partNo > 0 ? 0 : readdirSync(sys).filter((n) => existsSync(`${sys}/${n}/partition`)).length;
    const path = `/dev/${name}`;
    const d: BlockDevice = { path, aliases: [], number, sizeBytes, partition: partNo > 0, partitions, label: null, uuid: null, partuuid: null, partlabel: null, fstype: null, claimed: null };
    let fd: number;
    try {
      fd = openSync(hostPath(root, path), 'r');
    } catch {
      continue; // no node for it (yet)
    }
    try {
      if (partNo > 0) {
        const disk = basename(dirname(realpathSync(sys)));
        if (!tables.has(disk)) {
          try {
            const dfd = openSync(hostPath(root, `/dev/${disk}`), 'r');
            try {
              tables.set(disk, readPartitionTable(dfd));
            } finally {
              closeSync(dfd);
            }
          } catch {
            tables.set(disk, new Map());
          }
        }
        Object.assign(d, tables.get(disk)?.get(partNo) ?? {});
      }
      if (partitions === 0) {
        const fs = readSuperblock(readAt(fd, 0, 4096));
        if (fs && fs !== 'empty') Object.assign(d, fs);
        else if (fs === null) unknown.push(d);
      }
    } catch {
      // an I/O error reading it: listed, with nothing found on it
    } finally {
      closeSync(fd);
    }
    out.push(d);
  }
  if (askBlkid && unknown.length > 0) {
    // exit 2: it found nothing there either.
    const r = await run('blkid', ['-c', '/dev/null', '-o', 'export', ...unknown.map((d) => hostPath(root, d.path))], { timeoutSec: 15 }).catch((err: Error) => {
      problems.push(`devices: ${err.message}: labels of ${unknown.map((d) => d.path).join(', ')} not known`);
      return { stdout: '' };
    });
    for (const b of parseBlkidExport(r.stdout)) {
      const d = unknown.find((u) => hostPath(root, u.path) === b.DEVNAME);
      if (d) Object.assign(d, { label: b.LABEL ?? null, uuid: b.UUID ?? null, partlabel: b.PARTLABEL ?? d.partlabel, fstype: b.TYPE ?? null });
    }
  }
  return out;
}
