import { createHash } from 'node:crypto';
import type { Piece } from './crash-state';
import type { PieceData } from './pieces';
import { SECTOR } from './sector-disk';

// What a state leaves on the root partition, as content: every sector whose
// last piece leaves it different from the base image, with a hash of its
// bytes. Two states with the same content get the same key whichever
// writes made it (a torn write that kept old bytes, the same data written
// twice), so tier 1 checks each content once; the key of the root as the
// last window left it tells whether a state changed the root's bytes.

export interface Content {
  key: string;
  changed: number[]; // partition sectors that differ from the base image
  sources: number[]; // and where each one's bytes are (sourcePiece)
}

// A content's sector from its source: >= 0 a writes.bin sector, <= -2 a
// noise sector.
export const sourcePiece = (source: number, length = SECTOR): Piece => (source >= 0 ? { offset: 0, length, at: source * SECTOR } : { offset: 0, length, at: (-source - 2) * SECTOR, from: 'noise' });

export const PRISTINE = key([0, 0, 0, 0], 0);

const UNSET = -1; // a sector no piece of the state wrote, or one put back to old content

export class RootContent {
  private readonly writeHash: Uint32Array;
  private readonly writeKnown: Uint8Array;
  private readonly baseHash: Uint32Array;
  private readonly baseKnown: Uint8Array;
  // Each sector's last source in the state being summed up (sourcePiece),
  // and the sectors it touched.
  private readonly last: Float64Array;
  private readonly touched: number[] = [];

  constructor(
    private readonly data: PieceData,
    private readonly partStart: number,
    partSize: number,
    writesBytes: number,
  ) {
    this.writeHash = new Uint32Array((writesBytes / SECTOR) * 2);
    this.writeKnown = new Uint8Array(writesBytes / SECTOR);
    this.baseHash = new Uint32Array((partSize / SECTOR) * 2);
    this.baseKnown = new Uint8Array(partSize / SECTOR);
    this.last = new Float64Array(partSize / SECTOR).fill(UNSET);
  }

  // `mine`: the state's pieces on the partition, at partition offsets.
  of(mine: Piece[]): Content {
    const { last, touched } = this;
    for (const p of mine) {
      const first = p.offset / SECTOR;
      const n = p.length / SECTOR;
      if (!p.from) this.hashWrites(p.at / SECTOR, n);
      for (let s = 0; s < n; s++) {
        if (last[first + s] === UNSET) touched.push(first + s);
        last[first + s] = p.from === 'base' ? UNSET : p.from === 'noise' ? -(p.at / SECTOR + s) - 2 : p.at / SECTOR + s;
      }
    }
    const lanes = [0, 0, 0, 0];
    const changed: number[] = [];
    const sources: number[] = [];
    for (const sector of touched) {
      const source = last[sector];
      last[sector] = UNSET;
      if (source === UNSET) continue;
      this.hashBase(sector);
      let h0: number;
      let h1: number;
      if (source >= 0) {
        h0 = this.writeHash[source * 2];
        h1 = this.writeHash[source * 2 + 1];
      } else {
        const d = createHash('sha1').update(this.data.read(sourcePiece(source))).digest();
        h0 = d.readUInt32LE(0);
        h1 = d.readUInt32LE(4);
      }
      if (h0 === this.baseHash[sector * 2] && h1 === this.baseHash[sector * 2 + 1]) continue;
      changed.push(sector);
      sources.push(source);
      const a = fmix(sector ^ h0);
      const b = fmix(Math.imul(sector, 0x9e3779b1) ^ h1);
      lanes[0] = (lanes[0] + a) >>> 0;
      lanes[1] = (lanes[1] + b) >>> 0;
      lanes[2] = (lanes[2] + fmix(a ^ h1)) >>> 0;
      lanes[3] = (lanes[3] + fmix(b + h0)) >>> 0;
    }
    touched.length = 0;
    return { key: key(lanes, changed.length), changed, sources };
  }

  private hashWrites(first: number, n: number) {
    let all = true;
    for (let s = first; s < first + n && all; s++) all = this.writeKnown[s] === 1;
    if (all) return;
    const bytes = this.data.read({ offset: 0, length: n * SECTOR, at: first * SECTOR });
    hashSectors(bytes, this.writeHash, this.writeKnown, first);
  }

  private hashBase(sector: number) {
    if (this.baseKnown[sector]) return;
    // Neighbours are asked for next: read a run at once.
    let n = 1;
    while (n < 256 && sector + n < this.baseKnown.length && !this.baseKnown[sector + n]) n++;
    const bytes = this.data.read({ offset: 0, length: n * SECTOR, at: this.partStart + sector * SECTOR, from: 'base' });
    hashSectors(bytes, this.baseHash, this.baseKnown, sector);
  }
}

function hashSectors(bytes: Buffer, into: Uint32Array, known: Uint8Array, first: number) {
  for (let s = 0; s < bytes.length / SECTOR; s++) {
    const d = createHash('sha1').update(bytes.subarray(s * SECTOR, (s + 1) * SECTOR)).digest();
    into[(first + s) * 2] = d.readUInt32LE(0);
    into[(first + s) * 2 + 1] = d.readUInt32LE(4);
    known[first + s] = 1;
  }
}

// murmur3's finaliser: spreads every input bit over the output.
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function key(lanes: number[], sectors: number): string {
  return `${lanes.map((l) => l.toString(16).padStart(8, '0')).join('')}/${sectors}`;
}
