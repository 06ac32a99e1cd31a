import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { serveNbd, type NbdBackend } from './nbd-server';

// The server when its client goes away mid-conversation, as QEMU does at
// every power cut: the session ends, the server lives on. (A client gone
// while the server still wrote to it raised an 'error' no one listened
// to, and took the whole harness down with it: ECONNRESET in the first
// `make test` on a fresh machine.)

const t = suite('nbd server (client gone)');
let dir: string;

t.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'roroot-nbd-'));
});
t.after(() => rmSync(dir, { recursive: true, force: true }));

const disk: NbdBackend = { size: 1 << 20, read: (_o, n) => Buffer.alloc(n), write: () => {}, flush: () => {} };

function opened(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(path, () => resolve(s));
    s.once('error', reject);
  });
}
const received = (s: Socket, n: number) =>
  new Promise<void>((resolve) => {
    let got = 0;
    s.on('data', (d) => {
      got += d.length;
      if (got >= n) resolve();
    });
  });

// The client's flags and one option the server answers (INFO, three
// replies), sent many times over so that the server is still writing when
// the client has gone.
function flagsAndOptions(count: number): Buffer {
  const flags = Buffer.alloc(4);
  flags.writeUInt32BE(1);
  const opt = Buffer.alloc(16 + 6);
  opt.writeBigUInt64BE(0x49484156454f5054n, 0);
  opt.writeUInt32BE(6, 8);
  opt.writeUInt32BE(6, 12);
  return Buffer.concat([flags, ...Array.from({ length: count }, () => opt)]);
}

t('a client gone while the server writes ends its session, and the next client is served', async () => {
  const path = join(dir, 'nbd.sock');
  const server = await serveNbd(path, disk);
  const crashed: string[] = [];
  const onUncaught = (err: Error) => crashed.push(err.message);
  process.on('uncaughtException', onUncaught);
  try {
    for (let i = 0; i < 5; i++) {
      const s = await opened(path);
      await received(s, 18);
      s.write(flagsAndOptions(2000));
      s.destroy();
    }
    await new Promise((r) => setTimeout(r, 300));
    const next = await opened(path);
    await received(next, 18);
    next.destroy();
  } finally {
    process.off('uncaughtException', onUncaught);
    server.close();
  }
  assert.equal(crashed, [], 'no error left unheard');
});

t.run();
