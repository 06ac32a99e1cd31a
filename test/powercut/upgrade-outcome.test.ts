import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeRecord, encodeTries, type BootRecord } from '../../init/upgrade/boot-state';
import { grubChoice, outcome, readRecords } from './upgrade-outcome';

const t = suite('upgrade outcome');

const idle: BootRecord = { seq: 1, default: 'a', trial: 'none', sha256: '', size: 0, version: '', note: '' };
const armed: BootRecord = { seq: 2, default: 'a', trial: 'b', sha256: 'f00', size: 4096, version: '0.1.0-next', note: '' };
const committed: BootRecord = { seq: 3, default: 'b', trial: 'none', sha256: 'f00', size: 4096, version: '0.1.0-next', note: '' };
const firmware = { a: 'old', b: 'new' } as const;
const healthy = { a: { up: true, holds: false }, b: { up: true, holds: true } };

// The boot partition's three blocks as a state leaves them.
const blocks = (c0: BootRecord | null, c1: BootRecord | null, tries: number) => ({
  copies: [c0 ? encodeRecord(0, c0) : Buffer.alloc(1024), c1 ? encodeRecord(1, c1) : Buffer.alloc(1024)] as [Buffer, Buffer],
  tries: encodeTries(tries),
});

t('the newest valid copy is the record; a copy torn between its sectors is not valid', () => {
  const b = blocks(committed, armed, 0);
  assert.equal(readRecords(b).record, committed);
  // copy 0's first sector new (seq 5), its second still the old check (3).
  const torn = Buffer.concat([encodeRecord(0, { ...idle, seq: 5, default: 'b' }).subarray(0, 512), encodeRecord(0, committed).subarray(512)]);
  assert.equal(readRecords({ ...b, copies: [torn, b.copies[1]] }).record, armed);
  assert.is(readRecords({ copies: [Buffer.alloc(1024), Buffer.alloc(1024)], tries: Buffer.alloc(1024) }).record, null);
});

t('GRUB as grub.cfg: the trial while it has tries, a try counted down; the default otherwise; slot a with no record', () => {
  assert.equal(grubChoice(armed, 2), { slot: 'b', trial: true, tries: 1 });
  assert.equal(grubChoice(armed, 0), { slot: 'a', trial: false, tries: 0 });
  assert.equal(grubChoice(committed, 1), { slot: 'b', trial: false, tries: 1 });
  assert.equal(grubChoice(null, 2), { slot: 'a', trial: false, tries: 2 });
});

t('a cut before the trial is armed boots the old firmware; an armed or committed intact slot the new one', () => {
  assert.is(outcome(idle, 0, healthy, firmware).firmware, 'old');
  assert.is(outcome(armed, 2, healthy, firmware).firmware, 'new');
  assert.is(outcome(committed, 0, healthy, firmware).firmware, 'new');
});

t('a trial slot that does not hold its image: its boot check falls back to the default', () => {
  const o = outcome(armed, 2, { ...healthy, b: { up: true, holds: false } }, firmware);
  assert.is(o.firmware, 'old');
  assert.match(o.path.join(' '), /does not hold/);
});

t('a trial slot that cannot come up spends its tries, then the default boots', () => {
  const o = outcome(armed, 2, { ...healthy, b: { up: false, holds: true } }, firmware);
  assert.is(o.firmware, 'old');
  assert.is(o.path.length, 3, o.path.join(' | '));
});

t('the tries spent by a cut between the commit\'s two writes: the old default boots (a needless fallback, not a brick)', () => {
  assert.is(outcome(armed, 0, healthy, firmware).firmware, 'old');
});

t('bricked: the slot GRUB boots cannot come up and no fallback can', () => {
  assert.is(outcome(committed, 0, { ...healthy, b: { up: false, holds: false } }, firmware).firmware, null);
  assert.is(outcome(armed, 2, { a: { up: false, holds: false }, b: { up: false, holds: true } }, firmware).firmware, null);
  assert.is(outcome(idle, 0, { ...healthy, a: { up: false, holds: false } }, firmware).firmware, null);
});

t.run();
