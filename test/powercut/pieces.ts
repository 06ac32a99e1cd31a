import { closeSync, openSync } from 'node:fs';
import { noise, type Piece } from './crash-state';
import { readFully, writeFully } from './sector-disk';

// Where a crash state's bytes come from: the recording's writes.bin, the
// base image's own old content, or the erase-block model's noise.

export class PieceData {
  private readonly writesFd: number;
  private readonly baseFd: number;

  constructor(writesBin: string, base: string) {
    this.writesFd = openSync(writesBin, 'r');
    this.baseFd = openSync(base, 'r');
  }

  read(p: Piece): Buffer {
    if (p.from === 'noise') return noise(p.at, p.length);
    const out = Buffer.allocUnsafe(p.length); // every byte read, or zeroed past the end
    readFully(p.from === 'base' ? this.baseFd : this.writesFd, out, 0, p.length, p.at);
    return out;
  }

  // The pieces written into `fd`, each at its offset.
  lay(fd: number, pieces: Piece[]) {
    for (const p of pieces) writeFully(fd, this.read(p), p.offset);
  }

  close() {
    closeSync(this.writesFd);
    closeSync(this.baseFd);
  }
}
