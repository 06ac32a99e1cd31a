import { spawnSync } from 'node:child_process';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { grubCfg } from '../../init/flash/grub';

// grub.cfg of a two-slot board: GRUB's own parser takes it
// (grub-script-check, grub-common), and the slot that was the default
// before a trial took over is GRUB's fallback entry, so that a trial
// kernel GRUB cannot load boots the old slot in the same boot.

const t = suite('flash/grub');
const cfg = grubCfg({
  slots: [
    { slot: 'a', partition: 2, partuuid: 'PARTUUID=0000abcd-02' },
    { slot: 'b', partition: 3, partuuid: 'PARTUUID=0000abcd-03' },
  ],
  append: 'ro console=ttyS0,115200 panic=10',
  console: { unit: 0, speed: 115200 },
});

t("GRUB's parser takes it", () => {
  const r = spawnSync('grub-script-check', [], { input: cfg, encoding: 'utf8' });
  assert.is(r.error, undefined, 'grub-script-check runs (grub-common, in IMAGE_PACKAGES: make test installs it)');
  assert.is(r.status, 0, r.stderr);
});

t('the default slot, read before the trial takes over, is the fallback entry', () => {
  const lines = cfg.split('\n');
  const dflt = lines.indexOf('set dflt="$slot"');
  const trial = lines.findIndex((l) => l.includes('set slot="$trial"'));
  assert.ok(dflt >= 0 && trial > dflt, 'dflt is the record\'s default, set before the trial overrides slot');
  assert.ok(lines.includes('if [ "$dflt" = a ]; then set fallback=0; fi'));
  assert.ok(lines.includes('if [ "$dflt" = b ]; then set fallback=1; fi'));
  assert.ok(lines.findIndex((l) => l.includes('set fallback=')) < lines.findIndex((l) => l.startsWith('menuentry ')), 'set before the entries');
});

t.run();
