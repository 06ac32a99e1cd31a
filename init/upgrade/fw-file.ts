import { nodeCrypto } from '../sys/crypto';

// A firmware update (`make update`: build/update/<board>-<version>.rorootfw):
//
//   RORORTFW1\n
//   {"format":1,"board":...,"version":...,"imageSize":N,"imageSha256":...,"payloadSize":M}\n
//   <Ed25519 signature of the header line, base64; empty: unsigned>\n
//   <payload: the root filesystem image, gzip, M bytes>
//
// The signature covers the header, and the header names the image's size
// and sha256: `roroot upgrade` verifies the signature and the board before
// it writes a byte, and the image's hash as it reads it back from the
// disk (a payload damaged by accident fails gzip's CRC-32 before that).

export const MAGIC = 'RORORTFW1\n';
const MAX_HEADER = 4096;

export interface Header {
  format: 1;
  board: string;
  version: string;
  imageSize: number;
  imageSha256: string;
  payloadSize: number;
}

// The bytes before the payload: what parseStart reads back.
export function fileStart(headerLine: string, signatureBase64: string): string {
  return `${MAGIC}${headerLine}\n${signatureBase64}\n`;
}

export interface Parsed {
  header: Header;
  headerLine: string;
  signature: Buffer | null;
  payloadOffset: number;
}

// The first bytes of a file (at least until the signature's newline), or
// why it is not an update.
export function parseStart(head: Buffer): Parsed | { error: string } | { more: true } {
  if (head.length < MAGIC.length) return { more: true };
  if (head.subarray(0, MAGIC.length).toString('latin1') !== MAGIC) return { error: 'not a roroot firmware update (no RORORTFW1 header)' };
  const h = head.indexOf(0x0a, MAGIC.length);
  if (h < 0) return head.length > MAX_HEADER ? { error: 'header too long' } : { more: true };
  const s = head.indexOf(0x0a, h + 1);
  if (s < 0) return head.length > MAX_HEADER * 2 ? { error: 'signature line too long' } : { more: true };
  const headerLine = head.subarray(MAGIC.length, h).toString('utf8');
  let header: Header;
  try {
    header = JSON.parse(headerLine) as Header;
  } catch {
    return { error: 'the header is not JSON' };
  }
  const ok =
    header.format === 1 &&
    typeof header.board === 'string' &&
    /^[A-Za-z0-9._+~-]{1,64}$/.test(header.version) &&
    Number.isSafeInteger(header.imageSize) &&
    header.imageSize > 0 &&
    /^[0-9a-f]{64}$/.test(header.imageSha256) &&
    Number.isSafeInteger(header.payloadSize) &&
    header.payloadSize > 0;
  if (!ok) return { error: 'the header lacks a field or has a bad one (format, board, version, imageSize, imageSha256, payloadSize)' };
  const sig = head.subarray(h + 1, s).toString('latin1').trim();
  return { header, headerLine, signature: sig === '' ? null : Buffer.from(sig, 'base64'), payloadOffset: s + 1 };
}

export function signatureValid(p: Parsed, publicKeyPem: string): boolean {
  if (!p.signature) return false;
  try {
    const { createPublicKey, verify } = nodeCrypto();
    return verify(null, Buffer.from(p.headerLine), createPublicKey(publicKeyPem), p.signature);
  } catch {
    return false;
  }
}
