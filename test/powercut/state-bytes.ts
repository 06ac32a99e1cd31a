import { createHash } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { clip, type Piece } from './crash-state';
import { PieceData } from './pieces';
import { writeFully } from './sector-disk';

// A range of a crash state's disk as bytes: the base image's, with the
// state's pieces laid on them in order (a later piece over an earlier one).
// The two-slot judging reads the boot records' blocks this way, and hashes
// a whole slot a chunk at a time without a copy of it on disk.

const CHUNK = 4 << 20;

export class StateBytes {
  private readonly data: PieceData;

  constructor(base: string, writesBin: string) {
    this.data = new PieceData(writesBin, base);
  }

  // [start, start + length) of the disk as `pieces` leave it.
  read(pieces: Piece[], start: number, length: number): Buffer {
    const out = this.data.read({ offset: 0, length, at: start, from: 'base' });
    for (const p of clip(pieces, start, length)) this.data.read(p).copy(out, p.offset);
    return out;
  }

  // sha256 of [start, start + length): the pieces clipped once, each chunk
  // laid from the ones that reach it.
  sha256(pieces: Piece[], start: number, length: number): string {
    const mine = clip(pieces, start, length).map((p, order) => ({ ...p, order }));
    mine.sort((a, b) => a.offset - b.offset || a.order - b.order);
    const h = createHash('sha256');
    let from = 0; // the first piece that may still reach the chunk (sorted by offset)
    for (let at = 0; at < length; at += CHUNK) {
      const n = Math.min(CHUNK, length - at);
      const chunk = this.data.read({ offset: 0, length: n, at: start + at, from: 'base' });
      while (from < mine.length && mine[from].offset + mine[from].length <= at) from++;
      const reach = mine.slice(from).filter((p) => p.offset < at + n && p.offset + p.length > at);
      reach.sort((a, b) => a.order - b.order);
      for (const p of clip(reach, at, n)) this.data.read(p).copy(chunk, p.offset);
      h.update(chunk);
    }
    return h.digest('hex');
  }

  // The range written out as a file of its own (e2fsck looks at it).
  save(pieces: Piece[], start: number, length: number, out: string) {
    const fd = openSync(out, 'w');
    try {
      for (let at = 0; at < length; at += CHUNK) writeFully(fd, this.read(pieces, start + at, Math.min(CHUNK, length - at)), at);
    } finally {
      closeSync(fd);
    }
  }

  close() {
    this.data.close();
  }
}
