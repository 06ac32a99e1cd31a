import { closeSync, constants, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import type { Config } from '../config/config';
import { matchSpec } from '../plan/devices';
import { probeBlockDevices } from '../sys/block-devices';
import { childProcess } from '../sys/child';
import { nodeCrypto } from '../sys/crypto';
import { localFacts } from '../sys/probe';
import { runChecked } from '../sys/spawn';
import { BLOCK, current, decodeRecord, decodeTries, encodeRecord, encodeTries, type BootRecord, type Slot } from './boot-state';
import { STATE_FILES, TRIES_FILE } from '../flash/grub';

// The raw side of A/B upgrades: the disk's devices (named by grub.cfg on
// the kernel command line), the boot records and the tries count read and
// written straight on the boot partition's device, and a slot hashed as
// the disk holds it. The boot partition is never mounted read-write: a
// write there changes data blocks allocated once at flash time, never the
// filesystem's metadata, so a cut cannot leave GRUB a filesystem it cannot
// read.

export interface Disk {
  boot: string; // device paths
  slots: Record<Slot, string>;
  booted: Slot | null;
}

export class UpgradeError extends Error {}

export async function findDisk(config: Config): Promise<Disk> {
  const d = config.cmdline.devices;
  if (!d.boot || !d.a || !d.b) throw new UpgradeError('this system has no two root slots (no roroot.boot=, roroot.slot_a=, roroot.slot_b= on the kernel command line: a SLOTS=2 board boots with them)');
  const facts = { ...localFacts('/', []), blockDevices: await probeBlockDevices('/', false, []) };
  const one = (spec: string) => {
    const found = matchSpec(facts, spec);
    if (found.length !== 1) throw new UpgradeError(`${spec}: ${found.length === 0 ? 'no such device' : `found on ${found.length} devices`}`);
    return found[0].path;
  };
  return { boot: one(d.boot), slots: { a: one(d.a), b: one(d.b) }, booted: config.cmdline.slot };
}

// Where a file of the boot partition's ext2 lies on the device: it was
// made there in one filesystem block (4 KiB, at least BLOCK bytes), and
// stays; a record is its first BLOCK bytes.
async function offsetOf(device: string, file: string): Promise<number> {
  const size = Number(/Block size:\s+(\d+)/.exec((await runChecked('dumpe2fs', ['-h', device], { timeoutSec: 30 })).stdout)?.[1]);
  const blocks = (await runChecked('debugfs', ['-R', `blocks ${file}`, device], { timeoutSec: 30 })).stdout.trim().split(/\s+/).map(Number);
  if (!(size >= BLOCK) || blocks.length < 1 || !blocks[0]) throw new UpgradeError(`${device}: ${file} is not one block of the boot partition`);
  return blocks[0] * size;
}

function readAt(device: string, offset: number): Buffer {
  const fd = openSync(device, 'r');
  try {
    const b = Buffer.alloc(BLOCK);
    readSync(fd, b, 0, BLOCK, offset);
    return b;
  } finally {
    closeSync(fd);
  }
}

// O_DSYNC: the write is on the medium (the block layer flushes the
// device's cache) before the next one starts.
function writeAt(device: string, offset: number, data: Buffer) {
  const fd = openSync(device, constants.O_WRONLY | constants.O_DSYNC);
  try {
    writeSync(fd, data, 0, data.length, offset);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export interface BootState {
  record: BootRecord | null;
  next: 0 | 1;
  tries: number;
  offsets: { copies: [number, number]; tries: number };
}

export async function readState(disk: Disk): Promise<BootState> {
  const offsets = { copies: [await offsetOf(disk.boot, STATE_FILES[0]), await offsetOf(disk.boot, STATE_FILES[1])] as [number, number], tries: await offsetOf(disk.boot, TRIES_FILE) };
  const c = current([decodeRecord(0, readAt(disk.boot, offsets.copies[0])), decodeRecord(1, readAt(disk.boot, offsets.copies[1]))]);
  return { record: c.record, next: c.next, tries: decodeTries(readAt(disk.boot, offsets.tries)), offsets };
}

// A new record, into the copy that does not hold the newest one.
export function writeRecord(disk: Disk, state: BootState, change: Omit<BootRecord, 'seq'>) {
  const record = { ...change, seq: (state.record?.seq ?? 0) + 1 };
  writeAt(disk.boot, state.offsets.copies[state.next], encodeRecord(state.next, record));
}

export function writeTries(disk: Disk, state: BootState, tries: number) {
  writeAt(disk.boot, state.offsets.tries, encodeTries(tries));
}

// sha256 of the first `size` bytes of a device, read past the page cache
// (dd iflag=direct): what the disk holds, not what was just written.
export function hashDevice(device: string, size: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const dd = childProcess().spawn('dd', [`if=${device}`, 'iflag=direct,count_bytes', 'bs=1M', `count=${size}`, 'status=none'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const h = nodeCrypto().createHash('sha256');
    let err = '';
    dd.stdout.on('data', (d: Buffer) => h.update(d));
    dd.stderr.on('data', (d: Buffer) => (err += d.toString()));
    dd.on('error', reject);
    dd.on('close', (code) => (code === 0 ? resolve(h.digest('hex')) : reject(new UpgradeError(`dd if=${device} iflag=direct: ${err.trim() || `exit ${code}`}`))));
  });
}
