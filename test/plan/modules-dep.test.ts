import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { GENERATED, modulesDepStale, planModulesDep, type ModulesFact } from '../../init/plan/modules-dep';
import { planBoot } from '../../init/plan/plan';
import { describe } from '../../init/plan/describe';
import { config, facts } from './fixtures';

const t = suite('plan: modules.dep');
const R = '6.1.0-56-amd64';
const fact = (over: Partial<ModulesFact>): ModulesFact => ({
  release: R,
  dir: `/usr/lib/modules/${R}`,
  exists: true,
  dep: { size: 400_000 },
  newer: null,
  error: null,
  ...over,
});

t('current: no step, so no window at all', () => {
  assert.is(modulesDepStale(fact({})), null);
  assert.equal(planModulesDep(fact({}), '/rw'), []);
});

t('stale: missing, empty, or older than a module, modules.order or builtin', () => {
  assert.is(modulesDepStale(fact({ dep: null })), 'modules.dep is missing');
  assert.is(modulesDepStale(fact({ dep: { size: 0 }, newer: `/usr/lib/modules/${R}/kernel/fs/fat/vfat.ko` })), 'modules.dep is empty');
  assert.is(modulesDepStale(fact({ newer: `/usr/lib/modules/${R}/modules.order` })), `/usr/lib/modules/${R}/modules.order is newer than modules.dep`);
});

t('a kernel without a module directory (all built in) needs nothing', () => {
  assert.is(modulesDepStale(fact({ exists: false, dep: null })), null);
});

t('the step: work on the scratch, not fatal, says why', () => {
  const [step] = planModulesDep(fact({ dep: null }), '/var/lib/roroot/volatile');
  assert.equal(step, {
    id: 'modules.depmod',
    phase: 'modules',
    kind: 'depmod',
    release: R,
    dir: `/usr/lib/modules/${R}`,
    work: '/var/lib/roroot/volatile/.roroot/depmod',
    scratch: '/var/lib/roroot/volatile',
    fatal: false,
    why: 'modules.dep is missing',
  });
  assert.match(describe(step), `depmod ${R} (into /var/lib/roroot/volatile/.roroot/depmod, then renamed into /usr/lib/modules/${R} with / read-write)`);
});

t('planBoot: after the scratch and its links, only when the fact says stale', () => {
  const stale = planBoot(config({ '/etc/roroot.conf': 'RW_DEVICE=/dev/vda2\nVOLATILE=/tmp\n' }), facts({ modules: fact({ dep: null }) }));
  const kinds = stale.steps.map((s) => s.kind);
  assert.ok(kinds.includes('symlink') && kinds.includes('depmod'), kinds.join(' '));
  assert.ok(kinds.indexOf('depmod') > kinds.indexOf('symlink'), kinds.join(' '));
  const current = planBoot(config({ '/etc/roroot.conf': 'RW_DEVICE=/dev/vda2\nVOLATILE=/tmp\n' }), facts({ modules: fact({}) }));
  assert.not.ok(current.steps.some((s) => s.kind === 'depmod'));
  const unknown = planBoot(config({ '/etc/roroot.conf': 'RW_DEVICE=/dev/vda2\nVOLATILE=/tmp\n' }), facts({ modules: fact({ error: 'find /lib/modules/x -newer modules.dep: not found (exit 127)' }) }));
  assert.not.ok(unknown.steps.some((s) => s.kind === 'depmod'));
  assert.ok(unknown.warnings.includes('modules: find /lib/modules/x -newer modules.dep: not found (exit 127): taking modules.dep as current'), unknown.warnings.join('\n'));
});

t("depmod's outputs are never inputs; its inputs never outputs", () => {
  for (const out of ['modules.dep', 'modules.dep.bin', 'modules.alias.bin', 'modules.symbols', 'modules.builtin.bin', 'modules.builtin.alias.bin', 'modules.devname', 'modules.softdep']) assert.ok(GENERATED.test(out), out);
  for (const input of ['modules.order', 'modules.builtin', 'modules.builtin.modinfo', 'kernel', 'vfat.ko']) assert.not.ok(GENERATED.test(input), input);
});

t.run();
