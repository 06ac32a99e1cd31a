import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

// A file replaced so that a power cut leaves the old one or the new one,
// never half of either: written beside, fsynced, renamed over, and the
// directory fsynced so that the rename itself is on the disk.

export function writeAtomically(file: string, data: Buffer | string, mode = 0o644) {
  mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
  const tmp = `${file}.roroot-new`;
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  fsyncDir(dirname(file));
}

export function fsyncDir(dir: string) {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
