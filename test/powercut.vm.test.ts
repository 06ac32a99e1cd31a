import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { campaign, type SystemResult } from './powercut/campaign';
import { STORAGE, type Policy } from './powercut/crash-state';
import { writeReport } from './powercut/report';
import { scenariosOf } from './powercut/systems';

// A small power-cut campaign (the harness of test/powercut/), one QEMU at a
// time: roroot on the image whose boot opens a read-write window, and the
// baseline, each recorded once, 48 tier-1 cuts each over every scenario
// under torn and flush-ignored (a drive that ignores FLUSH), one crash
// state of each booted. Any roroot finding outside a window fails; the
// baseline must show the damage storage that lies does to a read-write root.

const t = suite('power-cut campaign (QEMU)');
const repo = resolve(__dirname, '../..'); // build/test/ once bundled
let dir: string;
let results: SystemResult[];

t.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'roroot-powercut-'));
  const policies: Policy[] = ['torn', 'flush-ignored'];
  const run = { scenarios: [...scenariosOf('roroot-stale')], policies, cuts: 48, boots: 1, recuts: 0 };
  results = await campaign({
    work: dir,
    images: { image: join(repo, 'build/image/qemu-x86_64.img'), plainImage: join(repo, 'build/image/qemu-x86_64-plain.img'), misalignedImage: '', work: dir },
    runs: [
      { system: 'roroot-stale', ...run },
      { system: 'baseline', ...run },
    ],
    seed: Date.now() % 100000,
    storage: STORAGE,
    tier1Workers: null,
    say: (line) => process.stdout.write(`  ${line}\n`),
  });
  writeReport(dir, 'powercut-report', { command: 'test/powercut.vm.test.ts', date: new Date().toISOString(), machine: 'make test', seed: 0, minutes: 0, storage: STORAGE }, results);
});
t.after(() => rmSync(dir, { recursive: true, force: true }));

const system = (name: string) => results.find((r) => r.system === name) as SystemResult;

t('roroot: outside windows no root needs repair, no byte of it changed, no package damaged, every boot comes up, no acked record lost', () => {
  const r = system('roroot-stale');
  const outside = r.rows.flatMap((w) => w.findings.filter((f) => !f.window));
  assert.equal(outside, [], JSON.stringify(outside, null, 1));
  for (const w of r.rows) {
    assert.ok(w.cuts + w.window_cuts > 0, `${w.scenario}/${w.policy}: no cut points`);
    assert.is(w.root_writes_outside_window, 0);
  }
  assert.is(r.tier2.boots, 1);
  assert.ok(r.recording.acked >= 30 && r.recording.missing.length === 0, JSON.stringify(r.recording));
});

t('roroot: the windows were seen and cut into, and flush-ignored holds the boot window past its close', () => {
  const r = system('roroot-stale');
  const row = (scenario: string, policy: string) => r.rows.find((w) => w.scenario === scenario && w.policy === policy);
  assert.ok((row('rw-window', 'torn')?.window_cuts ?? 0) > 0, JSON.stringify(row('rw-window', 'torn')));
  // 16 MiB of log storm after the boot window's writes: within 32 MiB.
  assert.ok((row('log-storm', 'flush-ignored')?.window_cuts ?? 0) > 0, JSON.stringify(row('log-storm', 'flush-ignored')));
  assert.is(row('log-storm', 'torn')?.window_cuts, 0, 'an honest drive has flushed the window');
});

t('baseline: a drive that ignores FLUSH leaves roots that need repair or damaged packages (reported, not failed on)', () => {
  const b = system('baseline');
  const flushIgnored = b.rows.filter((w) => w.policy === 'flush-ignored');
  assert.ok(flushIgnored.reduce((a, w) => a + w.root_repair_needed + w.packages_damaged, 0) > 0, JSON.stringify(flushIgnored.map((w) => [w.scenario, w.cuts, w.root_repair_needed, w.packages_damaged])));
  assert.ok(b.rows.some((w) => w.root_writes_outside_window > 0));
  process.stdout.write(readFileSync(join(dir, 'powercut-report.md'), 'utf8').split('\n').filter((l) => l.startsWith('| baseline') || l.startsWith('| roroot')).map((l) => `  ${l}\n`).join(''));
});

t.run();
