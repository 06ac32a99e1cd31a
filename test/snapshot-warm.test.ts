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

// A snapshot cannot hold a live handle. Nor a timer even set and cleared:
// node's timer list keeps when it expects the next one, at the build's
// clock, and a process started from the snapshot never armed a timer due
// after that (init/snapshot-warm.ts).
// node 17's process.getActiveResourcesInfo, which @types/node 18 lacks.
const activeResources = () => (process as unknown as { getActiveResourcesInfo(): string[] }).getActiveResourcesInfo();

t('no handle left running, and no timer ever set', async () => {
  const before = activeResources();
  const set = { timers: 0, intervals: 0 };
  const [timeout, interval] = [globalThis.setTimeout, globalThis.setInterval];
  globalThis.setTimeout = ((...a: Parameters<typeof setTimeout>) => (set.timers++, timeout(...a))) as typeof setTimeout;
  globalThis.setInterval = ((...a: Parameters<typeof setInterval>) => (set.intervals++, interval(...a))) as typeof setInterval;
  try {
    await warmForBoot();
  } finally {
    [globalThis.setTimeout, globalThis.setInterval] = [timeout, interval];
  }
  assert.equal(activeResources(), before);
  assert.equal(set, { timers: 0, intervals: 0 });
});

t('its copies are made in a directory of its own, removed after', async () => {
  const ours = () => readdirSync(tmpdir()).filter((n) => n.startsWith('roroot-warm-'));
  const before = ours();
  await warmForBoot();
  assert.equal(ours(), before);
});

t.run();
