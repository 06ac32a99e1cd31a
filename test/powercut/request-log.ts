import { readFileSync, writeFileSync } from 'node:fs';
import type { NbdBackend } from './nbd-server';
import { DataFile, SectorDisk, checkRange, dataHash } from './sector-disk';

// Every request the guest's disk received, in order: what a crash state is
// cut from. Writes keep their data in the run's data file (`at`), FUA writes
// are durable at once, a FLUSH makes every earlier write durable. `phase` is
// what the guest said it was doing (its console markers) when the request
// came, `t` the milliseconds since power-on.

export interface Request {
  i: number;
  t: number;
  op: 'read' | 'write' | 'flush';
  offset: number;
  length: number;
  fua: boolean;
  phase: string;
  at: number | null; // writes: position of the data in writes.bin
  sha: string | null; // writes: hash of the data
}

// The disk a recorded run boots from: the base image with the run's writes
// on top, each appended to writes.bin and logged.
export class RecordingDisk implements NbdBackend {
  readonly requests: Request[] = [];
  phase = 'boot';
  private readonly t0 = Date.now();
  private readonly file: number;

  constructor(
    private readonly disk: SectorDisk,
    private readonly data: DataFile,
  ) {
    this.file = disk.addFile(data.fd);
  }

  get size(): number {
    return this.disk.size;
  }

  read(offset: number, length: number): Buffer {
    const out = this.disk.read(offset, length);
    this.log('read', offset, length, false, null, null);
    return out;
  }

  write(offset: number, data: Buffer, fua: boolean) {
    checkRange(offset, data.length, this.disk.size);
    const at = this.data.append(data);
    this.disk.place({ offset, length: data.length, file: this.file, at });
    this.log('write', offset, data.length, fua, at, dataHash(data));
  }

  flush() {
    this.log('flush', 0, 0, false, null, null);
  }

  private log(op: Request['op'], offset: number, length: number, fua: boolean, at: number | null, sha: string | null) {
    this.requests.push({ i: this.requests.length, t: Date.now() - this.t0, op, offset, length, fua, phase: this.phase, at, sha });
  }
}

// requests.jsonl: one request per line.
export function saveRequests(path: string, requests: Request[]) {
  writeFileSync(path, requests.map((r) => JSON.stringify(r)).join('\n') + '\n');
}

export function loadRequests(path: string): Request[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l)
    .map((l) => JSON.parse(l) as Request);
}
