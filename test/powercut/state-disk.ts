import { closeSync, openSync, rmSync } from 'node:fs';
import { clip, type Piece } from './crash-state';
import { PieceData } from './pieces';
import { DataFile, SectorDisk } from './sector-disk';

// A crash state as a disk a guest boots from: the base image with the
// state's pieces placed on it, the recorded ones pointing into writes.bin,
// old content and noise (the erase-block model's) copied out to a file of
// their own first (`extraFile`, removed on close).

export interface StateDisk {
  sectors: SectorDisk;
  close(): void;
}

export function stateDisk(base: string, writesBin: string, pieces: Piece[], extraFile: string): StateDisk {
  const recorded = openSync(writesBin, 'r');
  const sectors = new SectorDisk(base);
  const file = sectors.addFile(recorded);
  const data = new PieceData(writesBin, base);
  const extra = new DataFile(extraFile);
  const extraIndex = sectors.addFile(extra.fd);
  for (const p of clip(pieces, 0, sectors.size)) {
    if (p.from) sectors.place({ offset: p.offset, length: p.length, file: extraIndex, at: extra.append(data.read(p)) });
    else sectors.place({ ...p, file });
  }
  return {
    sectors,
    close() {
      sectors.close();
      closeSync(recorded);
      data.close();
      extra.close();
      rmSync(extraFile, { force: true });
    },
  };
}
