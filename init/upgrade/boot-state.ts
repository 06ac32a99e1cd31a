// Which root slot boots: the one piece of state an A/B upgrade flips, kept
// where the bootloader (GRUB, board/... grub.cfg written by roroot flash)
// reads it, on a small boot partition that is never mounted read-write.
// Linux writes it raw, sector by sector; GRUB only ever rewrites `tries`.
//
// Why a power cut at any request leaves the old default or the new one,
// never neither, under the harness's torn and flush-ignored policies:
// - the record is kept twice (copy 0 and copy 1, each one GRUB environment
//   block of two 512-byte sectors, in files whose blocks were allocated
//   once at flash time: a write touches data blocks only, never metadata);
// - a record carries a sequence number twice: `seq` in its first sector and
//   `check` in its second; a copy is valid only when they agree, so a write
//   torn between its sectors, or half lost, makes that copy invalid;
// - a new record goes to the copy that does NOT hold the newest valid one,
//   with seq + 1; the newest valid copy is never written. Whatever becomes
//   of the write, the newest valid record afterwards is the old one or the
//   new one. A sector is the unit a disk writes whole (the harness tears at
//   512 bytes); the write is followed by a FLUSH (and the fsync of a block
//   device issues one), and the next write waits for it;
// - `tries` is one digit at a fixed place in its own block: GRUB's save_env
//   rewrites it in place and nothing else in that block moves.

export type Slot = 'a' | 'b';

export interface BootRecord {
  seq: number;
  default: Slot; // what boots when no trial is armed or its tries are spent
  trial: Slot | 'none'; // the slot on trial
  sha256: string; // of the trial slot's image, as the update said (checked at its boots)
  size: number; // bytes of that image
  version: string; // the trial's version
  note: string; // why the last trial ended, if it did not commit
}

export const BLOCK = 1024;
const HEADER = '# GRUB Environment Block\n';

// GRUB's environment escapes a backslash; a value here is one line.
function escape(v: string): string {
  return v.replace(/\n/g, ' ').replace(/\\/g, '\\\\');
}

function pad(text: string, size: number): Buffer {
  if (Buffer.byteLength(text) > size) throw new Error(`boot state: ${Buffer.byteLength(text)} bytes do not fit in ${size}`);
  return Buffer.concat([Buffer.from(text), Buffer.alloc(size - Buffer.byteLength(text), '#')]);
}

// Copy `n` (0 or 1) of a record: its variables named s0_... or s1_..., so
// that GRUB loads both copies side by side.
export function encodeRecord(n: 0 | 1, r: BootRecord): Buffer {
  const p = `s${n}_`;
  const vars = { seq: String(r.seq), default: r.default, trial: r.trial, sha256: r.sha256, size: String(r.size), version: r.version, note: r.note };
  const first = HEADER + Object.entries(vars).map(([k, v]) => `${p}${k}=${escape(v)}\n`).join('');
  // The first sector ends in a comment line: GRUB skips it; the second
  // begins with the check.
  const sector0 = Buffer.concat([pad(first, 511), Buffer.from('\n')]);
  return Buffer.concat([sector0, pad(`${p}check=${r.seq}\n`, 512)]);
}

function vars(block: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  const text = block.toString('latin1');
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.includes('=')) continue;
    const eq = line.indexOf('=');
    out.set(line.slice(0, eq), line.slice(eq + 1).replace(/\\(.)/g, '$1'));
  }
  return out;
}

export function decodeRecord(n: 0 | 1, block: Buffer): BootRecord | null {
  if (block.length !== BLOCK || !block.toString('latin1').startsWith(HEADER)) return null;
  const v = vars(block);
  const p = `s${n}_`;
  const seq = v.get(`${p}seq`);
  if (!seq || !/^\d+$/.test(seq) || v.get(`${p}check`) !== seq) return null;
  const slot = (x: string | undefined): Slot | null => (x === 'a' || x === 'b' ? x : null);
  const d = slot(v.get(`${p}default`));
  const trial = v.get(`${p}trial`) === 'none' ? 'none' : slot(v.get(`${p}trial`));
  if (!d || !trial) return null;
  return { seq: Number(seq), default: d, trial, sha256: v.get(`${p}sha256`) ?? '', size: Number(v.get(`${p}size`) ?? 0), version: v.get(`${p}version`) ?? '', note: v.get(`${p}note`) ?? '' };
}

// The newest valid copy, and which copy the next record goes to.
export function current(copies: [BootRecord | null, BootRecord | null]): { record: BootRecord | null; from: 0 | 1 | null; next: 0 | 1 } {
  const [a, b] = copies;
  if (a && (!b || a.seq >= b.seq)) return { record: a, from: 0, next: 1 };
  if (b) return { record: b, from: 1, next: 0 };
  return { record: null, from: null, next: 0 };
}

export function encodeTries(tries: number): Buffer {
  if (!Number.isInteger(tries) || tries < 0 || tries > 9) throw new Error(`tries: ${tries} is not 0 to 9`);
  return pad(`${HEADER}tries=${tries}\n`, BLOCK);
}

export function decodeTries(block: Buffer): number {
  const t = vars(block).get('tries');
  return t && /^\d$/.test(t) ? Number(t) : 0;
}
