import { createServer, type Server, type Socket } from 'node:net';

// An NBD server (fixed newstyle, simple replies) for one disk on a unix
// socket: what QEMU's `-blockdev driver=nbd,server.type=unix` talks to.
// Requests are served one at a time in the order they arrive, so a FLUSH
// covers exactly the writes received before it. It offers FLUSH and FUA and
// nothing else (no TRIM, no WRITE_ZEROES: QEMU writes zeroes instead).
// Protocol: https://github.com/NetworkBlockDevice/nbd/blob/master/doc/proto.md

export interface NbdBackend {
  readonly size: number;
  read(offset: number, length: number): Buffer;
  write(offset: number, data: Buffer, fua: boolean): void;
  flush(): void;
}

const NBDMAGIC = Buffer.from('NBDMAGIC');
const IHAVEOPT = 0x49484156454f5054n;
const REPLY_MAGIC = 0x3e889045565a9n;
const FLAG_FIXED_NEWSTYLE = 1;
const FLAG_NO_ZEROES = 2;
const OPT = { EXPORT_NAME: 1, ABORT: 2, INFO: 6, GO: 7 } as const;
const REP = { ACK: 1, INFO: 3, ERR_UNSUP: 2 ** 31 + 1 } as const;
const INFO = { EXPORT: 0, BLOCK_SIZE: 3 } as const;
const TX = { HAS_FLAGS: 1, SEND_FLUSH: 4, SEND_FUA: 8 } as const;
const REQUEST_MAGIC = 0x25609513;
const SIMPLE_REPLY_MAGIC = 0x67446698;
const CMD = { READ: 0, WRITE: 1, DISC: 2, FLUSH: 3 } as const;
const CMD_FLAG_FUA = 1;
const ERR = { EIO: 5, EINVAL: 22 } as const;
const MAX_REQUEST = 32 * 1024 * 1024;

// Bytes from a socket, awaited by count. Chunks are kept as they came and
// joined once per take: a 32 MiB write arrives in hundreds of chunks.
class Reader {
  private chunks: Buffer[] = [];
  private length = 0;
  private wake: (() => void) | null = null;
  private ended = false;

  constructor(socket: Socket) {
    socket.on('data', (d) => {
      this.chunks.push(d);
      this.length += d.length;
      this.wake?.();
    });
    const end = () => {
      this.ended = true;
      this.wake?.();
    };
    socket.on('close', end);
    // A power cut kills QEMU mid-conversation: a write to it then fails
    // (EPIPE, ECONNRESET). That is how a session ends, not a fault, and
    // unheard it was thrown and took the whole harness down.
    socket.on('error', end);
  }

  async take(n: number): Promise<Buffer | null> {
    while (this.length < n) {
      if (this.ended) return null;
      await new Promise<void>((r) => (this.wake = r));
      this.wake = null;
    }
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    this.chunks = all.length > n ? [all.subarray(n)] : [];
    this.length -= n;
    return all.subarray(0, n);
  }
}

export function serveNbd(path: string, disk: NbdBackend, onError: (err: Error) => void = () => {}): Promise<Server> {
  const server = createServer((socket) => {
    session(socket, disk).catch((err: Error) => {
      onError(err);
      socket.destroy();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve(server));
  });
}

async function session(socket: Socket, disk: NbdBackend) {
  const r = new Reader(socket);
  const head = Buffer.alloc(18);
  NBDMAGIC.copy(head, 0);
  head.writeBigUInt64BE(IHAVEOPT, 8);
  head.writeUInt16BE(FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES, 16);
  socket.write(head);
  const clientFlags = await r.take(4);
  if (!clientFlags) return;
  const noZeroes = (clientFlags.readUInt32BE(0) & FLAG_NO_ZEROES) !== 0;
  if (!(await negotiate(socket, r, disk, noZeroes))) return;
  await transmit(socket, r, disk);
}

// Option haggling until EXPORT_NAME or GO; false when the client left.
async function negotiate(socket: Socket, r: Reader, disk: NbdBackend, noZeroes: boolean): Promise<boolean> {
  const txFlags = TX.HAS_FLAGS | TX.SEND_FLUSH | TX.SEND_FUA;
  for (;;) {
    const h = await r.take(16);
    if (!h) return false;
    if (h.readBigUInt64BE(0) !== IHAVEOPT) throw new Error('nbd: bad option magic');
    const opt = h.readUInt32BE(8);
    const data = await r.take(h.readUInt32BE(12));
    if (!data) return false;
    if (opt === OPT.EXPORT_NAME) {
      const reply = Buffer.alloc(noZeroes ? 10 : 134);
      reply.writeBigUInt64BE(BigInt(disk.size), 0);
      reply.writeUInt16BE(txFlags, 8);
      socket.write(reply);
      return true;
    }
    if (opt === OPT.ABORT) {
      socket.end(optReply(opt, REP.ACK, Buffer.alloc(0)));
      return false;
    }
    if (opt === OPT.INFO || opt === OPT.GO) {
      const exportInfo = Buffer.alloc(12);
      exportInfo.writeUInt16BE(INFO.EXPORT, 0);
      exportInfo.writeBigUInt64BE(BigInt(disk.size), 2);
      exportInfo.writeUInt16BE(txFlags, 10);
      // Sector-sized requests at least: the disk keeps its map by sector.
      const blockSize = Buffer.alloc(14);
      blockSize.writeUInt16BE(INFO.BLOCK_SIZE, 0);
      blockSize.writeUInt32BE(512, 2);
      blockSize.writeUInt32BE(4096, 6);
      blockSize.writeUInt32BE(MAX_REQUEST, 10);
      socket.write(optReply(opt, REP.INFO, exportInfo));
      socket.write(optReply(opt, REP.INFO, blockSize));
      socket.write(optReply(opt, REP.ACK, Buffer.alloc(0)));
      if (opt === OPT.GO) return true;
      continue;
    }
    // STRUCTURED_REPLY, meta contexts, TLS, LIST: not offered.
    socket.write(optReply(opt, REP.ERR_UNSUP, Buffer.alloc(0)));
  }
}

function optReply(opt: number, type: number, data: Buffer): Buffer {
  const h = Buffer.alloc(20);
  h.writeBigUInt64BE(REPLY_MAGIC, 0);
  h.writeUInt32BE(opt, 8);
  h.writeUInt32BE(type, 12);
  h.writeUInt32BE(data.length, 16);
  return Buffer.concat([h, data]);
}

async function transmit(socket: Socket, r: Reader, disk: NbdBackend) {
  for (;;) {
    const h = await r.take(28);
    if (!h) return;
    if (h.readUInt32BE(0) !== REQUEST_MAGIC) throw new Error('nbd: bad request magic');
    const flags = h.readUInt16BE(4);
    const type = h.readUInt16BE(6);
    const handle = h.subarray(8, 16);
    const offset = Number(h.readBigUInt64BE(16));
    const length = h.readUInt32BE(24);
    if (type === CMD.DISC) return;
    let payload: Buffer | null = null;
    if (type === CMD.WRITE) {
      payload = await r.take(length);
      if (!payload) return;
    }
    let error = 0;
    let data: Buffer | null = null;
    try {
      if (type === CMD.READ) data = disk.read(offset, length);
      else if (type === CMD.WRITE) disk.write(offset, payload as Buffer, (flags & CMD_FLAG_FUA) !== 0);
      else if (type === CMD.FLUSH) disk.flush();
      else error = ERR.EINVAL;
    } catch (err) {
      error = err instanceof RangeError ? ERR.EINVAL : ERR.EIO;
    }
    const reply = Buffer.alloc(16);
    reply.writeUInt32BE(SIMPLE_REPLY_MAGIC, 0);
    reply.writeUInt32BE(error, 4);
    handle.copy(reply, 8);
    socket.write(data && !error ? Buffer.concat([reply, data]) : reply);
  }
}
