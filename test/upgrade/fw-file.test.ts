import { generateKeyPairSync, sign } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { MAGIC, parseStart, signatureValid, type Header } from '../../init/upgrade/fw-file';

const t = suite('upgrade/fw-file');
const keys = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('ed25519');
const pem = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const header: Header = { format: 1, board: 'qemu-ab', version: '0.2.0', imageSize: 4096, imageSha256: 'cd'.repeat(32), payloadSize: 100 };
const file = (h: object, key = keys.privateKey, signed = true) => {
  const line = JSON.stringify(h);
  const sig = signed ? sign(null, Buffer.from(line), key).toString('base64') : '';
  return Buffer.concat([Buffer.from(`${MAGIC}${line}\n${sig}\n`), Buffer.alloc(100, 1)]);
};

t('a signed header: parsed, its signature good, the payload after it', () => {
  const f = file(header);
  const p = parseStart(f);
  assert.ok('header' in p);
  if (!('header' in p)) return;
  assert.equal(p.header, header);
  assert.ok(signatureValid(p, pem));
  assert.is(f.length - p.payloadOffset, 100);
});

t('unsigned, signed by another key, or a header changed after signing: not valid', () => {
  for (const f of [file(header, keys.privateKey, false), file(header, other.privateKey)]) {
    const p = parseStart(f);
    assert.ok('header' in p && !signatureValid(p, pem));
  }
  const f = file(header).toString('latin1').replace('"board":"qemu-ab"', '"board":"qemu-xb"');
  const p = parseStart(Buffer.from(f, 'latin1'));
  assert.ok('header' in p && !signatureValid(p, pem), 'the board edited');
});

t('not an update, a short start, a bad header: said precisely', () => {
  assert.equal(parseStart(Buffer.from('hello world, this is not it\n')), { error: 'not a roroot firmware update (no RORORTFW1 header)' });
  assert.equal(parseStart(Buffer.from(MAGIC + '{"format":1')), { more: true });
  assert.equal(parseStart(Buffer.from(`${MAGIC}{"format":1,"board":"x"}\n\n`)), { error: 'the header lacks a field or has a bad one (format, board, version, imageSize, imageSha256, payloadSize)' });
  assert.equal(parseStart(Buffer.from(`${MAGIC}not json\n\n`)), { error: 'the header is not JSON' });
});

t.run();
