import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { BLOCK, current, decodeRecord, decodeTries, encodeRecord, encodeTries, type BootRecord } from '../../init/upgrade/boot-state';

const t = suite('upgrade/boot-state');
const rec = (seq: number, over: Partial<BootRecord> = {}): BootRecord => ({ seq, default: 'a', trial: 'none', sha256: '', size: 0, version: '0.1.0', note: '', ...over });

t('a record round-trips in one GRUB environment block of two sectors, its check in the second', () => {
  const r = rec(7, { trial: 'b', sha256: 'ab'.repeat(32), size: 469762048, version: '0.2.0', note: 'health: exit 1\nsecond line' });
  const b = encodeRecord(1, r);
  assert.is(b.length, BLOCK);
  assert.ok(b.toString('latin1').startsWith('# GRUB Environment Block\ns1_seq=7\n'));
  assert.ok(b.subarray(512).toString('latin1').startsWith('s1_check=7\n'));
  assert.equal(decodeRecord(1, b), { ...r, note: 'health: exit 1 second line' }, 'a note is one line');
  assert.is(decodeRecord(0, b), null, 'copy 1 is not read as copy 0');
});

t('a copy torn between its sectors, or half lost, is invalid; the newest valid copy wins', () => {
  const old = encodeRecord(0, rec(4));
  const next = encodeRecord(0, rec(6, { default: 'b' }));
  const torn = Buffer.concat([next.subarray(0, 512), old.subarray(512)]);
  assert.is(decodeRecord(0, torn), null);
  assert.is(decodeRecord(0, Buffer.concat([old.subarray(0, 512), next.subarray(512)])), null);
  assert.is(decodeRecord(0, Buffer.alloc(BLOCK)), null, 'zeros');
  const five = rec(5, { default: 'a' });
  assert.equal(current([decodeRecord(0, torn), five]), { record: five, from: 1, next: 0 });
  assert.equal(current([rec(6), rec(5)]).next, 1, 'the next record never overwrites the newest');
  assert.equal(current([null, null]), { record: null, from: null, next: 0 });
});

t('tries: one digit at a fixed place, so GRUB rewriting it moves nothing else', () => {
  const a = encodeTries(3);
  const b = encodeTries(2);
  assert.is(a.length, BLOCK);
  const differ = [...a].map((x, i) => (x === b[i] ? -1 : i)).filter((i) => i >= 0);
  assert.equal(differ, [31], 'only the digit');
  assert.is(decodeTries(b), 2);
  assert.throws(() => encodeTries(10));
});

t.run();
