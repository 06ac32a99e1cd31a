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
    'unknown option "roroot.colour" (known: roroot.init, roroot.slot, roroot.boot, roroot.slot_a, roroot.slot_b, roroot.rw_device)',
    'roroot.init= needs an absolute path, got "bad"',
  ]);
});

t('the slot GRUB booted and the disk devices its grub.cfg names', () => {
  const r = parseCmdline('root=PARTUUID=ab-02 roroot.slot=b roroot.boot=PARTUUID=ab-01 roroot.slot_a=PARTUUID=ab-02 roroot.slot_b=PARTUUID=ab-03 roroot.rw_device=PARTUUID=ab-05');
  assert.is(r.slot, 'b');
  assert.equal(r.devices, { boot: 'PARTUUID=ab-01', a: 'PARTUUID=ab-02', b: 'PARTUUID=ab-03', rw: 'PARTUUID=ab-05' });
  assert.equal(parseCmdline('roroot.slot=c roroot.boot=/dev/sda1').diagnostics.map((d) => d.message), ['roroot.slot= needs a or b, got "c"', 'roroot.boot= needs PARTUUID=..., got "/dev/sda1"']);
});

t('double quotes keep blanks inside a value', () => {
  assert.equal(parseCmdline('a "b c" d="e f" g').words, ['a', 'b c', 'd=e f', 'g']);
});

t.run();
