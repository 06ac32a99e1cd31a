import type { Request } from './request-log';
import { SECTOR } from './sector-disk';

// What the disk holds after a power cut at request K: what was durable by
// then, plus some of the writes still at risk. Which survive is the policy's
// choice; the first three model a drive that honours FLUSH and FUA (a write
// is durable once a FLUSH came after it, or at once when it is FUA), the last
// two the storage that lies (README: the power-cut harness):
//   prefix         the cached writes' first n, in order (a cache that drains
//                  in order)
//   subset         any of them (a drive that reorders)
//   torn           any of them, and a multi-sector write may keep only some
//                  of its 512-byte sectors (a write cut mid-transfer)
//   flush-ignored  FLUSH and FUA acknowledged, not honoured: every write of
//                  the recent past (the last horizonBytes written or the last
//                  horizonMs of recorded time, whichever covers more) is at
//                  risk, lost or torn as under torn; older ones were drained
//   erase-block    a block-mapped FTL: the cached writes as under torn, and an
//                  erase block whose write was cut while pending may lose a
//                  run of its pages, however long ago they were written: they
//                  read back as they were before the recording, or as noise
// Every choice comes from `seed`: (recording, policy, K, seed) is the state.

export const POLICIES = ['prefix', 'subset', 'torn', 'flush-ignored', 'erase-block'] as const;
export type Policy = (typeof POLICIES)[number];

export interface Storage {
  horizonBytes: number;
  horizonMs: number;
  eraseBlock: number; // bytes, blocks aligned on the whole disk
}

export const STORAGE: Storage = { horizonBytes: 32 << 20, horizonMs: 5000, eraseBlock: 4 << 20 };

// A flash page: the unit an erase-block cut damages.
export const PAGE = 16384;
const MAX_DAMAGED_PAGES = 16;

// Data lands at `offset` on the disk, from `at` in the recording's
// writes.bin; `base`: the base image's own bytes at `at` (old content);
// `noise`: the noise stream at `at` (see noise()).
export interface Piece {
  offset: number;
  length: number;
  at: number;
  from?: 'base' | 'noise';
}

export interface CrashState {
  k: number;
  policy: Policy;
  seed: number;
  pending: number; // writes at risk at the cut
  lost: number; // of those, dropped whole
  torn: number; // of those, kept in part
  damaged: number; // erase blocks that lost pages
  atRisk: number[]; // the writes at risk, by request index
  pieces: Piece[]; // in the order they are laid on the base image
}

// mulberry32: small, fast, and the same sequence everywhere for a seed.
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function crashState(requests: Request[], k: number, policy: Policy, seed: number, storage: Storage = STORAGE): CrashState {
  if (k < 0 || k > requests.length) throw new RangeError(`cut ${k} is outside the recording (0..${requests.length})`);
  const seen = requests.slice(0, k);
  const writes = seen.filter((r) => r.op === 'write');
  const risky = policy === 'flush-ignored' ? recentPast(seen, writes, storage) : cachedSinceFlush(seen, writes);
  const atRisk = new Set(risky.map((w) => w.i));
  const random = rng(seed);
  const kept = policy === 'prefix' ? risky.slice(0, Math.floor(random() * (risky.length + 1))) : risky.filter(() => random() < 0.5);
  const survivors = new Set(kept.map((w) => w.i));
  const tears = policy !== 'prefix' && policy !== 'subset';
  const pieces: Piece[] = [];
  const cut = new Set<number>(); // at-risk writes that did not land whole
  // Durable and surviving writes, in the order the guest sent them.
  for (const w of writes) {
    if (atRisk.has(w.i) && !survivors.has(w.i)) {
      cut.add(w.i);
      continue;
    }
    const whole = { offset: w.offset, length: w.length, at: w.at as number };
    if (tears && survivors.has(w.i) && w.length > SECTOR && random() < 0.5) {
      cut.add(w.i);
      pieces.push(...tear(whole, random));
    } else pieces.push(whole);
  }
  const torn = [...cut].filter((i) => survivors.has(i)).length;
  const damaged = policy === 'erase-block' ? eraseBlockDamage(writes.filter((w) => cut.has(w.i)), storage.eraseBlock, random) : [];
  pieces.push(...damaged);
  return { k, policy, seed, pending: risky.length, lost: risky.length - kept.length, torn, damaged: damaged.length, atRisk: [...atRisk], pieces };
}

// Writes after the last FLUSH, FUA ones excepted: a drive that honours both.
function cachedSinceFlush(seen: Request[], writes: Request[]): Request[] {
  let lastFlush = -1;
  for (const r of seen) if (r.op === 'flush') lastFlush = r.i;
  return writes.filter((w) => w.i > lastFlush && !w.fua);
}

// The newest writes, back to where both horizons have passed.
function recentPast(seen: Request[], writes: Request[], storage: Storage): Request[] {
  const now = seen.length > 0 ? seen[seen.length - 1].t : 0;
  let from = writes.length;
  let bytes = 0;
  while (from > 0) {
    const w = writes[from - 1];
    if (bytes >= storage.horizonBytes && now - w.t > storage.horizonMs) break;
    bytes += w.length;
    from--;
  }
  return writes.slice(from);
}

// Each erase block a cut write was going to has its pages rewritten at the
// cut with even odds; a rewritten block loses a run of 1 to 16 pages.
function eraseBlockDamage(cut: Request[], eraseBlock: number, random: () => number): Piece[] {
  const blocks = new Set<number>();
  for (const w of cut) for (let b = Math.floor(w.offset / eraseBlock); b <= Math.floor((w.offset + w.length - 1) / eraseBlock); b++) blocks.add(b);
  const out: Piece[] = [];
  for (const b of [...blocks].sort((x, y) => x - y)) {
    if (random() >= 0.5) continue;
    const pages = Math.max(1, Math.floor(eraseBlock / PAGE));
    const count = Math.min(pages, 1 + Math.floor(random() * MAX_DAMAGED_PAGES));
    const offset = b * eraseBlock + Math.floor(random() * (pages - count + 1)) * PAGE;
    const length = Math.min(count * PAGE, eraseBlock);
    if (random() < 0.5) out.push({ offset, length, at: offset, from: 'base' });
    else out.push({ offset, length, at: Math.floor(random() * 2 ** 32) * SECTOR, from: 'noise' });
  }
  return out;
}

// Each sector of the write kept or not, as runs of kept sectors.
function tear(p: Piece, random: () => number): Piece[] {
  const out: Piece[] = [];
  for (let s = 0; s < p.length / SECTOR; s++) {
    if (random() >= 0.5) continue;
    const last = out[out.length - 1];
    if (last && last.offset + last.length === p.offset + s * SECTOR) last.length += SECTOR;
    else out.push({ offset: p.offset + s * SECTOR, length: SECTOR, at: p.at + s * SECTOR });
  }
  return out;
}

// Noise that is the same for a position every time: each sector of the
// stream from its own generator.
export function noise(at: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let s = 0; s < length / SECTOR; s++) {
    const random = rng((at / SECTOR + s) % 2 ** 32);
    for (let o = 0; o < SECTOR; o += 4) out.writeUInt32LE(Math.floor(random() * 2 ** 32), s * SECTOR + o);
  }
  return out;
}

// The pieces that fall inside [start, start+length) of the disk, moved to
// offsets within that range: a partition's view of the state.
export function clip(pieces: Piece[], start: number, length: number): Piece[] {
  const out: Piece[] = [];
  for (const p of pieces) {
    const from = Math.max(p.offset, start);
    const to = Math.min(p.offset + p.length, start + length);
    if (from < to) out.push({ ...p, offset: from - start, length: to - from, at: p.at + (from - p.offset) });
  }
  return out;
}
