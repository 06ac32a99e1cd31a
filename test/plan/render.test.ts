import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { planBoot } from '../../init/plan/plan';
import { renderPlan } from '../../init/plan/render';
import { config, disk, facts } from './fixtures';

const t = suite('plan/render');

t('steps numbered with phase, command, reason, and their fallbacks indented', () => {
  const plan = planBoot(config({ '/etc/roroot.conf': 'RW_DEVICE=/dev/vda2\nRW_LABEL=' }), facts({ blockDevices: [disk('/dev/vda2', '254:2')] }));
  const text = renderPlan(plan, '/');
  assert.match(text, /^roroot plan for \/: on \(READONLY=yes\)\n/);
  assert.match(text, /\n {2}1 {2}scratch {5}mkfs\.ext4 -q -F -m 0 -E nodiscard -O \^has_journal -d \/var\/lib\/roroot\/volatile\.ini \/dev\/vda2\n {17}why: RW_DEVICE=\/dev\/vda2: \/dev\/vda2 \(64 MiB\); re-made at every boot, filled from the master copy\n {17}if it fails:\n {19}scratch {5}mount -n -t tmpfs -o mode=0755,size=25%,nosuid,nodev tmpfs \/var\/lib\/roroot\/volatile {3}\[fatal\]\n/);
  assert.match(text, /only if scratch\.mkfs succeeded/);
  assert.match(text, /\nnotes:\n {2}state: no persistent state/);
});

t.run();
