import { closeSync, createReadStream, fsyncSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Config } from '../config/config';
import { FIRMWARE } from '../config/own-paths';
import { readConfig } from '../sys/read-config';
import { hostPath } from '../sys/root-path';
import { run } from '../sys/spawn';
import type { BootRecord, Slot } from './boot-state';
import { parseStart, signatureValid, type Parsed } from './fw-file';
import { findDisk, hashDevice, readState, UpgradeError, writeRecord, writeTries, type BootState, type Disk } from './slot-io';

// `roroot upgrade FILE|-`: a firmware update written to the root slot that
// is not running, read back from the disk and checked, then armed for a
// trial: the running slot stays the default until the new one has booted,
// proved itself healthy and been committed (trial.ts). Nothing of the root
// that runs is written, so no read-write window is open for an upgrade, and
// a cut at any moment leaves the old slot, or the new one once committed.

const other = (s: Slot): Slot => (s === 'a' ? 'b' : 'a');

export interface UpgradeOptions {
  root: string; // whose config and key (--root); the devices are this machine's
  cmdline: string | null; // instead of /proc/cmdline
  file: string; // or '-'
  allowUnsigned: boolean;
  say: (line: string) => void;
}

// The file's start (header and signature); the stream is paused after it,
// `rest` the payload bytes that came with it.
function readStart(input: Readable): Promise<{ parsed: Parsed; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const p = parseStart(head);
      if ('more' in p) return;
      input.pause();
      input.off('data', onData);
      input.off('end', onEnd);
      if ('error' in p) reject(new UpgradeError(p.error));
      else resolve({ parsed: p, rest: head.subarray(p.payloadOffset) });
    };
    const onEnd = () => reject(new UpgradeError('the file ends inside its header'));
    input.on('data', onData);
    input.once('end', onEnd);
    input.once('error', (err) => reject(new UpgradeError(err.message)));
  });
}

export async function upgrade(opts: UpgradeOptions): Promise<number> {
  const config = readConfig(opts.root, opts.cmdline);
  const s = config.settings;
  const disk = await findDisk(config);
  if (!disk.booted) throw new UpgradeError('the kernel command line does not say which slot booted (roroot.slot=)');
  const state = await readState(disk);
  if (state.record && state.record.trial !== 'none' && state.tries > 0) throw new UpgradeError(`slot ${state.record.trial} is on trial (${state.record.version}, ${state.tries} boots left): roroot upgrade --cancel first`);
  const target = other(disk.booted);
  const input = opts.file === '-' ? process.stdin : createReadStream(opts.file);
  const { parsed, rest } = await readStart(input);
  const h = parsed.header;
  // Everything that can be checked before a byte is written is.
  const signed = signatureValid(parsed, readKey(hostPath(opts.root, s.upgradeKey)));
  if (!signed && !opts.allowUnsigned) throw new UpgradeError(`${parsed.signature ? 'the signature is not valid' : 'the update is not signed'} for ${s.upgradeKey}: refused (--allow-unsigned takes it anyway)`);
  if (h.board !== s.board && !opts.allowUnsigned) throw new UpgradeError(`the update is for board ${h.board}, this is ${s.board ?? 'an unnamed board'}: refused (--allow-unsigned takes it anyway)`);
  if (opts.file !== '-') {
    const size = statSync(opts.file).size;
    if (size !== parsed.payloadOffset + h.payloadSize) throw new UpgradeError(`the file has ${size} bytes, its header says ${parsed.payloadOffset + h.payloadSize}: truncated or padded, refused`);
  }
  const slotSize = Number(readFileSync(`/sys/class/block/${disk.slots[target].slice(5)}/size`, 'utf8')) * 512;
  if (h.imageSize > slotSize) throw new UpgradeError(`the image has ${h.imageSize} bytes, slot ${target} ${slotSize}: refused`);
  opts.say(`upgrade: ${h.board} ${h.version}${signed ? ', signed' : ', NOT SIGNED'}: writing slot ${target} (${disk.slots[target]}), the running slot ${disk.booted} untouched`);
  // The slot is not the default from here on until it is armed: a record
  // that would boot it is never written before its content is checked.
  const t0 = Date.now();
  await writeSlot(disk.slots[target], rest, input, h.imageSize);
  const onDisk = await hashDevice(disk.slots[target], h.imageSize);
  if (onDisk !== h.imageSha256) throw new UpgradeError(`slot ${target} reads back as ${onDisk}, not the update's ${h.imageSha256} (a payload its signature does not cover, or a disk that lost writes): not armed`);
  arm(disk, state, config, target, h);
  opts.say(`upgrade: slot ${target} written and read back in ${Math.round((Date.now() - t0) / 1000)} s; armed for ${s.upgradeTries} trial boot(s): reboot to try ${h.version}, slot ${disk.booted} stays the default until it is committed`);
  return 0;
}

function readKey(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

// gunzip into the slot; fsynced (a FLUSH). Not hashed on the way: the
// slot is hashed as it reads back, which is what arming needs, and a
// payload damaged by accident fails gzip's own CRC-32 here ("incorrect
// data check"). A hash of the stream as well cost a third of an upgrade's
// time under QEMU's TCG (inflating 374 MiB took ~27 s there, each sha256
// of it ~8 s) and told nothing the read-back does not.
async function writeSlot(device: string, first: Buffer, input: Readable, size: number): Promise<void> {
  // 1 MiB out at a time, not zlib's 16 KiB: a quarter less time inflating,
  // and a write(2) per MiB.
  const gunzip = createGunzip({ chunkSize: 1 << 20 });
  const fd = openSync(device, 'r+');
  let at = 0;
  try {
    const done = (async () => {
      for await (const chunk of gunzip) {
        const b = chunk as Buffer;
        if (at + b.length > size) throw new UpgradeError(`the image is longer than the ${size} bytes its header says`);
        for (let off = 0; off < b.length; ) off += writeSync(fd, b, off, b.length - off, at + off);
        at += b.length;
      }
    })();
    gunzip.write(first);
    input.pipe(gunzip);
    await done;
    if (at !== size) throw new UpgradeError(`the image ends after ${at} of its ${size} bytes: truncated`);
    fsyncSync(fd);
  } catch (err) {
    if (err instanceof UpgradeError) throw err;
    throw new UpgradeError(`the image: ${(err as Error).message}`);
  } finally {
    closeSync(fd);
  }
}

function arm(disk: Disk, state: BootState, config: Config, target: Slot, h: { imageSha256: string; imageSize: number; version: string }) {
  // Tries first (0 while nothing is armed), then the record that arms.
  writeTries(disk, state, config.settings.upgradeTries);
  writeRecord(disk, state, { default: state.record?.default ?? (disk.booted as Slot), trial: target, sha256: h.imageSha256, size: h.imageSize, version: h.version, note: '' });
}

export interface SlotStatus {
  slot: Slot;
  device: string;
  version: string | null;
  booted: boolean;
  default: boolean;
  trial: boolean;
}

export interface UpgradeStatus {
  slots: SlotStatus[];
  trial: { slot: Slot; version: string; triesLeft: number } | null;
  lastFallback: string | null;
}

export async function status(root: string, cmdline: string | null): Promise<UpgradeStatus> {
  const config = readConfig(root, cmdline);
  const disk = await findDisk(config);
  const state = await readState(disk);
  const r = state.record;
  const slots = (['a', 'b'] as const).map((slot) => ({
    slot,
    device: disk.slots[slot],
    version: slot === disk.booted ? readVersion(root) : null,
    booted: slot === disk.booted,
    default: (r?.default ?? 'a') === slot,
    trial: r?.trial === slot,
  }));
  const other = slots.find((x) => !x.booted);
  if (other) other.version = await slotVersion(other.device);
  return { slots, trial: r && r.trial !== 'none' ? { slot: r.trial, version: r.version, triesLeft: state.tries } : null, lastFallback: r?.note || null };
}

function readVersion(root: string): string | null {
  try {
    return readFileSync(hostPath(root, FIRMWARE), 'utf8').trim();
  } catch {
    return null;
  }
}

// The other slot's version, read off its filesystem without mounting it.
async function slotVersion(device: string): Promise<string | null> {
  const r = await run('debugfs', ['-R', `cat ${FIRMWARE}`, device], { timeoutSec: 30 });
  return r.code === 0 && r.stdout.trim() !== '' ? r.stdout.trim() : null;
}

export function cancel(root: string, cmdline: string | null, say: (l: string) => void): Promise<number> {
  return change(root, cmdline, say, (r) => (r.trial === 'none' ? null : { ...r, trial: 'none', note: `slot ${r.trial} (${r.version}): trial cancelled by roroot upgrade --cancel` }), 0);
}

// Re-arm a trial whose tries were spent (a power cut during a trial boot
// costs a try), when the slot still holds the image it was armed with.
export async function retry(root: string, cmdline: string | null, say: (l: string) => void): Promise<number> {
  const config = readConfig(root, cmdline);
  const disk = await findDisk(config);
  const state = await readState(disk);
  const r = state.record;
  if (!r || !r.sha256 || r.default === r.trial) throw new UpgradeError('no trial to try again');
  const slot = r.trial === 'none' ? other(r.default) : r.trial;
  if ((await hashDevice(disk.slots[slot], r.size)) !== r.sha256) throw new UpgradeError(`slot ${slot} no longer holds ${r.version}: roroot upgrade FILE again`);
  writeTries(disk, state, config.settings.upgradeTries);
  writeRecord(disk, state, { ...r, trial: slot, note: '' });
  say(`upgrade: slot ${slot} (${r.version}) armed again for ${config.settings.upgradeTries} trial boot(s)`);
  return 0;
}

async function change(root: string, cmdline: string | null, say: (l: string) => void, next: (r: BootRecord) => Omit<BootRecord, 'seq'> | null, tries: number): Promise<number> {
  const config = readConfig(root, cmdline);
  const disk = await findDisk(config);
  const state = await readState(disk);
  const r = state.record;
  const n = r && next(r);
  if (!n) {
    say('upgrade: no trial armed: nothing to do');
    return 0;
  }
  writeTries(disk, state, tries);
  writeRecord(disk, state, n);
  say(`upgrade: ${n.note || `slot ${n.default} is the default`}`);
  return 0;
}

export { UpgradeError };
