import type { Request } from './request-log';
import { SECTOR } from './sector-disk';

// What the disk holds after a power cut at request K: everything durable by
// then, plus some of the writes still in the volatile cache. A write is
// durable once a FLUSH was received after it, or at once when it was FUA.
// Which cached writes survive is the policy's choice:
//   prefix  the first n of them, in order (a cache that drains in order)
//   subset  any of them (a drive that reorders)
//   torn    any of them, and a multi-sector write may keep only some of its
//           512-byte sectors (a write cut mid-transfer)
// Every choice comes from `seed`: (recording, policy, K, seed) is the state.

export const POLICIES = ['prefix', 'subset', 'torn'] as const;
export type Policy = (typeof POLICIES)[number];

// Data at `at` in the recording's writes.bin lands at `offset` on the disk.
export interface Piece {
  offset: number;
  length: number;
  at: number;
}

export interface CrashState {
  k: number;
  policy: Policy;
  seed: number;
  pending: number; // writes in the cache at the cut
  lost: number; // of those, dropped whole
  torn: number; // of those, kept in part
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

export function crashState(requests: Request[], k: number, policy: Policy, seed: number): CrashState {
  if (k < 0 || k > requests.length) throw new RangeError(`cut ${k} is outside the recording (0..${requests.length})`);
  const seen = requests.slice(0, k);
  let lastFlush = -1;
  for (const r of seen) if (r.op === 'flush') lastFlush = r.i;
  const writes = seen.filter((r) => r.op === 'write');
  const cached = writes.filter((w) => w.i > lastFlush && !w.fua);
  const random = rng(seed);
  const pieces: Piece[] = [];
  let kept: Request[];
  if (policy === 'prefix') kept = cached.slice(0, Math.floor(random() * (cached.length + 1)));
  else kept = cached.filter(() => random() < 0.5);
  let torn = 0;
  const survivors = new Set(kept.map((w) => w.i));
  // Durable and surviving writes, in the order the guest sent them.
  for (const w of writes) {
    const durable = w.i < lastFlush || w.fua;
    if (!durable && !survivors.has(w.i)) continue;
    const whole = { offset: w.offset, length: w.length, at: w.at as number };
    if (policy === 'torn' && survivors.has(w.i) && w.length > SECTOR && random() < 0.5) {
      const parts = tear(whole, random);
      torn++;
      pieces.push(...parts);
    } else pieces.push(whole);
  }
  return { k, policy, seed, pending: cached.length, lost: cached.length - kept.length, torn, pieces };
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

// The pieces that fall inside [start, start+length) of the disk, moved to
// offsets within that range: a partition's view of the state.
export function clip(pieces: Piece[], start: number, length: number): Piece[] {
  const out: Piece[] = [];
  for (const p of pieces) {
    const from = Math.max(p.offset, start);
    const to = Math.min(p.offset + p.length, start + length);
    if (from < to) out.push({ offset: from - start, length: to - from, at: p.at + (from - p.offset) });
  }
  return out;
}
