import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { BootRecord } from '../../init/upgrade/boot-state';
import { commitWrites } from '../../init/upgrade/trial';
import { grubChoice } from '../powercut/upgrade-outcome';

// The commit's writes, cut after any of them: GRUB (as grub.cfg chooses,
// test/powercut/upgrade-outcome.ts) boots the slot being committed every
// time; before the first, the trial still has its try.
const t = suite('upgrade/trial');

t('a cut anywhere in the commit leaves the committed slot to boot', () => {
  const armed: BootRecord = { seq: 5, default: 'a', trial: 'b', sha256: 'cd'.repeat(32), size: 1 << 20, version: '0.2.0', note: '' };
  const writes = commitWrites(armed, 'b');
  for (let done = 0; done <= writes.length; done++) {
    let record = armed;
    let tries = 1; // one try left: GRUB counted this boot's down already
    for (const w of writes.slice(0, done)) {
      if ('tries' in w) tries = w.tries;
      else record = { ...w.record, seq: record.seq + 1 };
    }
    assert.is(grubChoice(record, tries).slot, 'b', `cut after ${done} of the commit's ${writes.length} writes`);
  }
  const last = writes.reduce((r, w) => ('record' in w ? { ...w.record, seq: r.seq + 1 } : r), armed);
  assert.equal([last.default, last.trial], ['b', 'none'], 'committed: the default, no trial');
});

t.run();
