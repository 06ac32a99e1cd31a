import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseCmdline } from '../../init/config/cmdline';

const t = suite('config/cmdline');

t('readonlyroot and noreadonlyroot; noreadonlyroot wins as in rc.sysinit', () => {
  assert.is(parseCmdline('ro root=/dev/vda1 quiet').readonlyroot, null);
  assert.is(parseCmdline('ro readonlyroot').readonlyroot, true);
  assert.is(parseCmdline('noreadonlyroot').readonlyroot, false);
  assert.is(parseCmdline('readonlyroot noreadonlyroot').readonlyroot, false);
  assert.is(parseCmdline('noreadonlyroot readonlyroot').readonlyroot, false);
  assert.is(parseCmdline('xreadonlyroot').readonlyroot, null, 'whole words, not substrings');
});

t('roroot.init= and unknown roroot.* options', () => {
  const r = parseCmdline('roroot.init=/lib/systemd/systemd roroot.colour=red roroot.init=bad\n');
  assert.is(r.init, '/lib/systemd/systemd');
  assert.equal(r.diagnostics.map((d) => d.message), [
    'unknown option "roroot.colour" (known: roroot.init)',
    'roroot.init= needs an absolute path, got "bad"',
  ]);
});

t('double quotes keep blanks inside a value', () => {
  assert.equal(parseCmdline('a "b c" d="e f" g').words, ['a', 'b c', 'd=e f', 'g']);
});

t.run();
