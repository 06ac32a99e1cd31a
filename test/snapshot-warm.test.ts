import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { planBoot } from '../init/plan/plan';
import { warmForBoot } from '../init/snapshot-warm';
import { config, dir, facts } from './plan/fixtures';

const t = suite('snapshot-warm');
const fedoraRwtab = readFileSync(join(__dirname, '../../test/fixtures/fedora-rwtab'), 'utf8');

// The snapshot keeps the heap the warm-up ran in: a plan after it must be
// the plan before it, or a build machine's config would reach the router.
t('the warm-up leaves nothing behind: the same plan before and after it', async () => {
  const plan = () => {
    const c = config({ '/etc/rwtab': fedoraRwtab, '/etc/roroot.conf': 'VOLATILE="/var/log /tmp"\n' });
    const paths = { ...facts().paths, '/var/log': dir('/var/log'), '/tmp': dir('/tmp'), '/var/lib/dhclient': dir('/var/lib/dhclient') };
    return JSON.stringify(planBoot(c, facts({ paths })));
  };
  const before = plan();
  await warmForBoot();
  await warmForBoot();
  assert.is(plan(), before);
});

// A snapshot cannot hold a live handle, and a timer left behind would
// fire in every process started from it.
// node 17's process.getActiveResourcesInfo, which @types/node 18 lacks.
const activeResources = () => (process as unknown as { getActiveResourcesInfo(): string[] }).getActiveResourcesInfo();

t('no timer or other handle is left running', async () => {
  const before = activeResources();
  await warmForBoot();
  assert.equal(activeResources(), before);
});

t('its copies are made in a directory of its own, removed after', async () => {
  const ours = () => readdirSync(tmpdir()).filter((n) => n.startsWith('roroot-warm-'));
  const before = ours();
  await warmForBoot();
  assert.equal(ours(), before);
});

t.run();
