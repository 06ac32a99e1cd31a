import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { crashState } from './crash-state';
import { serveNbd } from './nbd-server';
import { RecordingDisk } from './request-log';
import { DataFile, SectorDisk } from './sector-disk';

// QEMU's own NBD client (qemu-io) against the server: the handshake,
// reads that see every write, FLUSH and FUA in the log, the base untouched.

const t = suite('nbd server (qemu-io)');
const qemuIo = promisify(execFile);
let dir: string;

t.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'roroot-nbd-'));
});
t.after(() => rmSync(dir, { recursive: true, force: true }));

t('qemu-io writes, flushes and reads back; the log has every request; the base is never written', async () => {
  const base = join(dir, 'base.img');
  writeFileSync(base, Buffer.alloc(4096, 0x11));
  truncateSync(base, 8 << 20);
  const disk = new RecordingDisk(new SectorDisk(base), new DataFile(join(dir, 'writes.bin')));
  const server = await serveNbd(join(dir, 'nbd.sock'), disk);
  try {
    // qemu-io's default cache mode is writethrough: every write is FUA.
    const { stdout } = await qemuIo('qemu-io', ['-f', 'raw', '-t', 'writeback', `nbd+unix:///?socket=${join(dir, 'nbd.sock')}`,
      '-c', 'write -P 0xab 4096 8k', '-c', 'flush', '-c', 'write -P 0xcd 1024 1024', '-c', 'write -f -P 0xef 6144 512',
      '-c', 'read -P 0xab 4096 2k', '-c', 'read -P 0xef 6144 512', '-c', 'read -P 0xcd 1024 1k', '-c', 'read -P 0x11 0 1k', '-c', 'read -P 0 8388096 512']);
    assert.not.match(stdout, /verification failed|error/i, stdout);
  } finally {
    server.close();
  }
  const ops = disk.requests.map((r) => `${r.op}${r.fua ? '+fua' : ''} ${r.offset}+${r.length}`);
  assert.ok(ops.includes('write 4096+8192') && ops.includes('flush 0+0') && ops.includes('write 1024+1024') && ops.includes('write+fua 6144+512'), ops.join(', '));
  assert.equal(readFileSync(base).subarray(0, 4096), Buffer.alloc(4096, 0x11), 'base untouched');
  // A cut after the last write: the flushed and the FUA writes are there whatever the policy.
  const last = disk.requests.findIndex((r) => r.fua) + 1;
  const state = crashState(disk.requests, last, 'subset', 3);
  assert.ok(state.pieces.some((p) => p.offset === 4096 && p.length === 8192));
  assert.ok(state.pieces.some((p) => p.offset === 6144));
});

t.run();
