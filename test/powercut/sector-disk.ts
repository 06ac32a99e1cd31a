import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';

// A disk as the power-cut harness sees it: a base image that is never
// written, and on top of it every sector written since, each pointing at its
// data in an append-only file. The base stays shared by every run, a run's
// writes stay replayable (crash states are built from them offline), and
// memory holds only the sector map, never the data: a 1.9 GB image does not
// fit one Buffer (DESIGN.md).

export const SECTOR = 512;

// Where a sector's current data is: file index and byte position, packed in
// one number (positions are whole sectors, so the low bits are free).
const MAX_FILES = 8;
const pack = (file: number, pos: number) => pos * MAX_FILES + file;

export interface Extent {
  offset: number; // bytes on the disk, sector-aligned
  length: number;
  file: number; // index into the disk's data files
  at: number; // byte position of the data in that file
}

export class SectorDisk {
  private readonly sectors = new Map<number, number>();
  private readonly files: number[] = [];
  private readonly baseFd: number;
  readonly size: number;

  constructor(base: string) {
    this.baseFd = openSync(base, 'r');
    this.size = fstatSync(this.baseFd).size;
  }

  // The base only: the data files are their owners' to close.
  close() {
    closeSync(this.baseFd);
  }

  // A data file the disk may point into; returns its index.
  addFile(fd: number): number {
    if (this.files.length === MAX_FILES) throw new Error('too many data files');
    this.files.push(fd);
    return this.files.length - 1;
  }

  place(e: Extent) {
    checkRange(e.offset, e.length, this.size);
    for (let s = 0; s < e.length / SECTOR; s++) this.sectors.set(e.offset / SECTOR + s, pack(e.file, e.at + s * SECTOR));
  }

  read(offset: number, length: number): Buffer {
    checkRange(offset, length, this.size);
    const out = Buffer.alloc(length);
    // Runs of consecutive sectors from one place are read in one call.
    let run: { file: number; pos: number; into: number; length: number } | null = null;
    const flush = () => {
      if (run) readFully(run.file < 0 ? this.baseFd : this.files[run.file], out, run.into, run.length, run.pos);
      run = null;
    };
    for (let s = 0; s < length / SECTOR; s++) {
      const sector = offset / SECTOR + s;
      const loc = this.sectors.get(sector);
      const file = loc === undefined ? -1 : loc % MAX_FILES;
      const pos = loc === undefined ? sector * SECTOR : (loc - file) / MAX_FILES;
      if (run && run.file === file && run.pos + run.length === pos) run.length += SECTOR;
      else {
        flush();
        run = { file, pos, into: s * SECTOR, length: SECTOR };
      }
    }
    flush();
    return out;
  }
}

// An append-only data file, made new: each write's data, once, in request
// order.
export class DataFile {
  readonly fd: number;
  private end = 0;

  constructor(path: string) {
    this.fd = openSync(path, 'w+');
  }

  append(data: Buffer): number {
    const at = this.end;
    writeFully(this.fd, data, at);
    this.end += data.length;
    return at;
  }

  close() {
    closeSync(this.fd);
  }
}

export function checkRange(offset: number, length: number, size: number) {
  if (offset % SECTOR || length % SECTOR) throw new RangeError(`${offset}+${length} is not sector-aligned`);
  if (offset < 0 || offset + length > size) throw new RangeError(`${offset}+${length} is beyond the disk (${size} bytes)`);
}

export function readFully(fd: number, into: Buffer, at: number, length: number, pos: number) {
  let done = 0;
  while (done < length) {
    const n = readSync(fd, into, at + done, length - done, pos + done);
    if (n === 0) {
      into.fill(0, at + done, at + length); // a sparse base's tail
      return;
    }
    done += n;
  }
}

export function writeFully(fd: number, data: Buffer, pos: number) {
  let done = 0;
  while (done < data.length) done += writeSync(fd, data, done, data.length - done, pos + done);
}

// The hash the request log keeps of each write's data.
export function dataHash(data: Buffer): string {
  return createHash('sha1').update(data).digest('hex').slice(0, 16);
}
