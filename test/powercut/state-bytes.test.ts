import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Piece } from './crash-state';
import { StateBytes } from './state-bytes';

const t = suite('state bytes');
let dir: string;
const MIB = 1 << 20;

t.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'roroot-state-bytes-'));
  const base = Buffer.alloc(10 * MIB);
  for (let i = 0; i < base.length; i += 512) base[i] = (i / 512) & 0xff;
  writeFileSync(join(dir, 'base.img'), base);
  const writes = Buffer.alloc(2 * MIB);
  writes.fill(0xaa, 0, MIB);
  writes.fill(0xbb, MIB);
  writeFileSync(join(dir, 'writes.bin'), writes);
});
t.after(() => rmSync(dir, { recursive: true, force: true }));

// Over a chunk's boundary (4 MiB), and a later piece over an earlier one.
const pieces: Piece[] = [
  { offset: 4 * MIB - 4096, length: 8192, at: 0 },
  { offset: 4 * MIB - 1024, length: 512, at: MIB },
  { offset: 9 * MIB, length: 512, at: MIB + 512 },
  { offset: 9 * MIB, length: 1024, at: 512 },
];

function expected(start: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i += 512) out[i] = ((start + i) / 512) & 0xff;
  const lay = (offset: number, n: number, byte: number) => {
    for (let i = offset; i < offset + n; i++) if (i >= start && i < start + length) out[i - start] = byte;
  };
  lay(4 * MIB - 4096, 8192, 0xaa);
  lay(4 * MIB - 1024, 512, 0xbb);
  lay(9 * MIB, 512, 0xbb);
  lay(9 * MIB, 1024, 0xaa);
  return out;
}

t('a range as the pieces leave it, in their order; the hash of a range across chunks is that of those bytes', () => {
  const b = new StateBytes(join(dir, 'base.img'), join(dir, 'writes.bin'));
  try {
    for (const [start, length] of [[0, 10 * MIB], [MIB, 8 * MIB + 512], [4 * MIB - 1024, 512], [9 * MIB + 512, 512]]) {
      const want = expected(start, length);
      assert.ok(b.read(pieces, start, length).equals(want), `read ${start}+${length}`);
      assert.is(b.sha256(pieces, start, length), createHash('sha256').update(want).digest('hex'), `sha256 ${start}+${length}`);
    }
  } finally {
    b.close();
  }
});

t.run();
