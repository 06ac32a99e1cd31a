import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { closeSync, createReadStream, createWriteStream, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { fileStart, type Header } from '../init/upgrade/fw-file';

// A firmware update file (init/upgrade/fw-file.ts says its format) from a
// root filesystem image, signed with an Ed25519 key.

// The development key, made by the build the first time and kept beside
// it (build/keys): never committed. Its public half goes into the images.
export function devKey(dir: string): { privatePem: string; publicPem: string } {
  const priv = `${dir}/update.pem`;
  const pub = `${dir}/update.pub`;
  if (!existsSync(priv) || !existsSync(pub)) {
    mkdirSync(dir, { recursive: true });
    const k = generateKeyPairSync('ed25519');
    writeFileSync(pub, k.publicKey.export({ type: 'spki', format: 'pem' }));
    writeFileSync(priv, k.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  }
  return { privatePem: readFileSync(priv, 'utf8'), publicPem: readFileSync(pub, 'utf8') };
}

export async function buildUpdate(o: { image: string; board: string; version: string; privatePem: string | null; out: string }): Promise<Header> {
  mkdirSync(dirname(o.out), { recursive: true });
  const payload = `${o.out}.payload`;
  const hash = createHash('sha256');
  const input = createReadStream(o.image);
  input.on('data', (d) => hash.update(d as Buffer));
  await pipeline(input, createGzip({ level: 6 }), createWriteStream(payload));
  const header: Header = { format: 1, board: o.board, version: o.version, imageSize: statSync(o.image).size, imageSha256: hash.digest('hex'), payloadSize: statSync(payload).size };
  const line = JSON.stringify(header);
  const signature = o.privatePem ? sign(null, Buffer.from(line), o.privatePem).toString('base64') : '';
  const tmp = `${o.out}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, fileStart(line, signature));
  } finally {
    closeSync(fd);
  }
  await pipeline(createReadStream(payload), createWriteStream(tmp, { flags: 'a' }));
  rmSync(payload);
  renameSync(tmp, o.out);
  return header;
}
