import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { campaign, type SystemResult } from './powercut/campaign';
import { writeReport } from './powercut/report';

// A small power-cut campaign (the harness of test/powercut/): both systems
// recorded once, 48 tier-1 cuts each over every scenario and policy, two
// crash states of each booted. Any roroot failure fails; the baseline's are
// printed, and it must show the harness can see damage at all (its root is
// written outside any window).

const t = suite('power-cut campaign (QEMU)');
const repo = resolve(__dirname, '../..') // build/test/ once bundled;
let dir: string;
let results: SystemResult[];

t.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'roroot-powercut-'));
  results = await campaign({
    work: dir,
    image: join(repo, 'build/image/qemu-x86_64.img'),
    plainImage: join(repo, 'build/image/qemu-x86_64-plain.img'),
    systems: ['roroot', 'baseline'],
    scenarios: ['boot', 'log-storm', 'rw-window', 'nfs'],
    policies: ['prefix', 'subset', 'torn'],
    cuts: 48,
    boots: 2,
    seed: Date.now() % 100000,
    say: (line) => process.stdout.write(`  ${line}\n`),
  });
  writeReport(dir, { command: 'test/powercut.vm.test.ts', date: new Date().toISOString(), machine: 'make test', seed: 0, minutes: 0 }, results);
});
t.after(() => rmSync(dir, { recursive: true, force: true }));

const system = (name: string) => results.find((r) => r.system === name) as SystemResult;

t('roroot: no root needs repair, no root write outside a window, every boot comes up, no acked record lost', () => {
  const r = system('roroot');
  const failures = r.rows.flatMap((w) => w.failures);
  assert.equal(failures, [], JSON.stringify(failures, null, 1));
  for (const w of r.rows) {
    assert.ok(w.cuts > 0, `${w.scenario}/${w.policy}: no cut points`);
    assert.is(w.root_repair_needed, 0);
    assert.is(w.root_writes_outside_window, 0);
  }
  assert.is(r.tier2.boots, 2);
  assert.is(r.rows.reduce((a, w) => a + w.boot_to_login_ok, 0), 2);
  assert.ok(r.recording.acked >= 30 && r.recording.missing.length === 0, JSON.stringify(r.recording));
});

t('roroot: the read-write windows were seen and cut into (the root was written, and only there)', () => {
  const r = system('roroot');
  const window = r.rows.filter((w) => w.scenario === 'rw-window');
  assert.ok(window.reduce((a, w) => a + w.root_clean + w.root_journal_replay_only, 0) > 0, JSON.stringify(window));
  assert.ok(r.phases.some((p) => p.phase === 'rw-window'));
});

t('baseline: its root is written outside any window (reported, not failed on)', () => {
  const b = system('baseline');
  assert.ok(b.rows.some((w) => w.root_writes_outside_window > 0));
  process.stdout.write(readFileSync(join(dir, 'powercut-report.md'), 'utf8').split('\n').filter((l) => l.startsWith('| baseline')).map((l) => `  ${l}\n`).join(''));
});

t.run();
