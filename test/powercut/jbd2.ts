import { Corrupt, Ext4, INCOMPAT, RO_COMPAT_METADATA_CSUM, SUPERBLOCK, type Run } from './ext4';

// The journal replay the kernel does when it mounts a filesystem whose
// superblock says it needs recovery (fs/jbd2/recovery.c: scan to the end of
// the log, collect revoke records, write every logged block of a committed
// transaction that no later revoke cancels), computed without writing
// anything. A journal the state damaged throws Corrupt: the kernel would
// refuse to mount it. Tier 1 lays these writes on its copy of the root, checks, and
// puts back exactly what it laid: an e2fsck that replays the journal itself
// wrote outside the state's pieces and left the copy changed for the next
// state (issue 18). Journals with checksums or fast commits are refused
// with a precise error, not misread: the reference image has neither.

const MAGIC = 0xc03b3998;
const TYPE = { DESCRIPTOR: 1, COMMIT: 2, SB_V1: 3, SB_V2: 4, REVOKE: 5 } as const;
const JBD2_INCOMPAT = { REVOKE: 0x1, BIT64: 0x2, ASYNC_COMMIT: 0x4, CSUM_V2: 0x8, CSUM_V3: 0x10, FAST_COMMIT: 0x20 } as const;
const JBD2_COMPAT_CHECKSUM = 0x1;
const TAG = { ESCAPE: 1, SAME_UUID: 2, LAST: 8 } as const;
const EXT4_ERROR_FS = 0x2;

export interface Write {
  offset: number; // bytes on the filesystem
  data: Buffer;
}

export interface Replay {
  transactions: number; // committed transactions replayed
  writes: Write[]; // logged blocks, then the two superblocks, in order
}

// null: the superblock does not ask for recovery.
export function replayJournal(fs: Ext4): Replay | null {
  const sb = fs.read(SUPERBLOCK, 1024);
  const incompat = sb.readUInt32LE(0x60);
  if (!(incompat & INCOMPAT.RECOVER)) return null;
  if (fs.g.roCompat & RO_COMPAT_METADATA_CSUM) throw fs.unsupported('metadata_csum (a journal with checksums)');
  const bs = fs.g.blockSize;
  const runs = fs.map(fs.inode(fs.g.journalInum)).runs;
  const physical = (logical: number): number => {
    const r = runs.find((x) => logical >= x.logical && logical < x.logical + x.length) as Run | undefined;
    if (!r) throw new Corrupt(`journal block ${logical} is not mapped`);
    return r.physical + (logical - r.logical);
  };
  const block = (logical: number) => fs.read(physical(logical) * bs, bs);
  const jsb = block(0);
  if (jsb.readUInt32BE(0) !== MAGIC || ![TYPE.SB_V1, TYPE.SB_V2].includes(jsb.readUInt32BE(4) as 3 | 4)) throw new Corrupt('the journal superblock is not one');
  const v2 = jsb.readUInt32BE(4) === TYPE.SB_V2;
  const jIncompat = v2 ? jsb.readUInt32BE(40) : 0;
  const jCompat = v2 ? jsb.readUInt32BE(36) : 0;
  if (jIncompat & (JBD2_INCOMPAT.CSUM_V2 | JBD2_INCOMPAT.CSUM_V3 | JBD2_INCOMPAT.FAST_COMMIT) || jCompat & JBD2_COMPAT_CHECKSUM) {
    throw fs.unsupported('journal checksums or fast commits');
  }
  const first = jsb.readUInt32BE(20);
  const last = jsb.readUInt32BE(16); // s_maxlen
  const start = jsb.readUInt32BE(28);
  const bit64 = (jIncompat & JBD2_INCOMPAT.BIT64) !== 0;
  const tagBytes = bit64 ? 12 : 8;
  const wrap = (b: number) => (b >= last ? b - (last - first) : b);

  const writes = new Map<number, Buffer>(); // fs block -> data, latest transaction last
  let end = jsb.readUInt32BE(24); // first transaction not to replay
  if (start !== 0) {
    // Pass 1: the end of the log. Pass 2: revoke records. Pass 3: replay.
    const revoked = new Map<number, number>();
    for (const pass of ['scan', 'revoke', 'replay'] as const) {
      let next = start;
      let seq = jsb.readUInt32BE(24);
      for (let steps = 0; steps <= last; steps++) {
        if (pass !== 'scan' && seq >= end) break;
        const b = block(next);
        if (b.readUInt32BE(0) !== MAGIC || b.readUInt32BE(8) !== seq) break;
        const type = b.readUInt32BE(4);
        next = wrap(next + 1);
        if (type === TYPE.DESCRIPTOR) {
          for (let at = 12; at + tagBytes <= bs; ) {
            const target = b.readUInt32BE(at) + (bit64 ? b.readUInt32BE(at + 8) * 2 ** 32 : 0);
            const flags = b.readUInt16BE(at + 6);
            const logged = next;
            next = wrap(next + 1);
            if (pass === 'replay' && !((revoked.get(target) ?? -1) >= seq)) {
              if (target >= fs.g.blocks) throw new Corrupt(`journal transaction ${seq} logs block ${target}, beyond the filesystem`);
              const data = Buffer.from(block(logged));
              if (flags & TAG.ESCAPE) data.writeUInt32BE(MAGIC, 0);
              writes.delete(target);
              writes.set(target, data);
            }
            at += tagBytes + (flags & TAG.SAME_UUID ? 0 : 16);
            if (flags & TAG.LAST) break;
          }
        } else if (type === TYPE.COMMIT) seq++;
        else if (type === TYPE.REVOKE) {
          if (pass === 'revoke') {
            const used = Math.min(b.readUInt32BE(12), bs);
            for (let at = 16; at + (bit64 ? 8 : 4) <= used; at += bit64 ? 8 : 4) {
              const target = bit64 ? Number(b.readBigUInt64BE(at)) : b.readUInt32BE(at);
              revoked.set(target, Math.max(seq, revoked.get(target) ?? -1));
            }
          }
        } else break;
      }
      if (pass === 'scan') end = seq;
    }
  }
  const out: Write[] = [...writes].map(([target, data]) => ({ offset: target * bs, data }));
  // Then what recovery writes of its own: the journal empty, the
  // filesystem no longer needing recovery (and marked with errors when the
  // journal recorded one).
  // e2fsck restarts the log after the last transaction, so that no stale
  // commit block can match a new one (e2fsck/journal.c).
  const j = Buffer.from(block(0));
  j.writeUInt32BE(end + 1, 24);
  j.writeUInt32BE(0, 28);
  if (v2) j.writeInt32BE(0, 32);
  out.push({ offset: physical(0) * bs, data: j });
  const s = Buffer.from(replayed(out, SUPERBLOCK, 1024) ?? sb);
  s.writeUInt32LE((s.readUInt32LE(0x60) & ~INCOMPAT.RECOVER) >>> 0, 0x60);
  if (v2 && jsb.readInt32BE(32) !== 0) s.writeUInt16LE(s.readUInt16LE(0x3a) | EXT4_ERROR_FS, 0x3a);
  out.push({ offset: SUPERBLOCK, data: s });
  return { transactions: end - jsb.readUInt32BE(24), writes: out };
}

// The bytes at [offset, offset+length) as the replay's writes left them,
// when one of them covers the range.
function replayed(writes: Write[], offset: number, length: number): Buffer | null {
  for (let i = writes.length - 1; i >= 0; i--) {
    const w = writes[i];
    if (w.offset <= offset && offset + length <= w.offset + w.data.length) return w.data.subarray(offset - w.offset, offset - w.offset + length);
  }
  return null;
}
