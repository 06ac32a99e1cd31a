import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NfsServer } from '../../board/nfs-server';
import { testPackage } from '../support/test-package';
import { crashState, type Policy, type Storage } from './crash-state';
import { record, REQUESTS, TEST_DEB, WRITES, type Recording } from './record';
import { loadRequests } from './request-log';
import { rootPartition } from './root-check';
import { count, damage, type Cut, type Row } from './rows';
import type { Scenario } from './scenarios';
import { secondCut } from './second-cut';
import { recordingDir, system as systemFor, type Images, type System, type SystemName } from './systems';
import { tier1, type Tier1Output } from './tier1';
import { bootState, describeBoot } from './tier2';
import { runUpgradeSystem } from './campaign-upgrade';
import { phaseSpans } from './phases';

// A campaign: each system in turn (one QEMU at a time, machine-wide) is
// recorded once, its recording cut `cuts` times (tier 1), `boots` of those
// states booted (tier 2) and `recuts` of those boots cut again while they
// boot (a second boot each: seconds_per_boot counts both). The storage model (crash-state.ts) is the campaign's, saved beside
// the recordings for powercut-replay. The two-slot router's run is an
// upgrade's (campaign-upgrade.ts).

export interface Run {
  system: SystemName;
  scenarios: Scenario[];
  policies: Policy[];
  cuts: number; // tier-1 states
  boots: number; // tier-2 boots
  recuts: number; // of those boots, how many are cut again
}

export interface CampaignOptions {
  work: string;
  images: Images;
  runs: Run[];
  seed: number;
  storage: Storage;
  tier1Workers: { script: string; count: number } | null; // see tier1.ts
  say: (line: string) => void;
  reuseRecording?: boolean; // the upgrade scenario's: a recording of the same image kept in work is cut again
}

export interface SystemResult {
  system: SystemName;
  image: string;
  recording: Recording;
  requests: number;
  tier1: Tier1Output['stats'];
  tier2: { boots: number; second_cuts: number; seconds_per_boot: number; login_s: number[] };
  phases: { phase: string; from: number; to: number }[]; // ms since power-on
  cuts: Cut[];
  rows: Row[];
}

export const CAMPAIGN = 'campaign.json'; // { seed, storage }: what powercut-replay needs

export async function campaign(o: CampaignOptions): Promise<SystemResult[]> {
  mkdirSync(o.work, { recursive: true });
  writeFileSync(join(o.work, CAMPAIGN), JSON.stringify({ seed: o.seed, storage: o.storage }) + '\n');
  const out: SystemResult[] = [];
  for (const run of o.runs) out.push(await (run.system === 'roroot-ab' ? runUpgradeSystem(run, o) : runSystem(run, o)));
  return out;
}

// Boot b of tier 2 takes the b-th (scenario, policy) pair, riskiest
// scenario first, every pair once before any twice; within a pair the
// riskiest state not booted yet.
const TIER2_ORDER: Scenario[] = ['rw-window', 'boot', 'nfs', 'log-storm'];

export function tier2Pair(b: number, scenarios: Scenario[], policies: Policy[]): { scenario: Scenario; policy: Policy; round: number } {
  const order = TIER2_ORDER.filter((s) => scenarios.includes(s));
  const pairs = order.length * policies.length;
  const j = b % pairs;
  const s = j % order.length;
  return { scenario: order[s], policy: policies[(s + Math.floor(j / order.length)) % policies.length], round: Math.floor(b / pairs) };
}

async function runSystem(run: Run, o: CampaignOptions): Promise<SystemResult> {
  const dir = recordingDir(o.work, run.system);
  mkdirSync(dir, { recursive: true });
  const system = systemFor(run.system, { ...o.images, work: o.work });
  const nfs = await NfsServer.start(join(dir, 'nfs'));
  try {
    testPackage(dir, 'powercut-test', join(nfs.exportDir, TEST_DEB), 2048);
    const rec = await recordOrRetry(system, dir, nfs, o.say);
    const requests = loadRequests(join(dir, REQUESTS));
    const part = rootPartition(system.image);
    const t1 = await tier1({ system, rec, requests, dir, part, scenarios: run.scenarios, policies: run.policies, cuts: run.cuts, seed: o.seed, storage: o.storage, workers: o.tier1Workers });
    o.say(`${system.name}: tier 1: ${t1.stats.states} states in ${t1.stats.seconds.toFixed(1)} s (${Math.round(t1.stats.per_minute)}/min, ${t1.stats.setup_seconds.toFixed(1)} s of it setting up; ${t1.stats.judged} judged, ${t1.stats.dpkg_runs} dpkg runs, ${t1.stats.workers} workers)`);
    for (const row of t1.rows.filter((r) => r.scenario === 'nfs')) {
      row.acked_records = rec.acked;
      row.acked_records_lost = rec.missing.length;
      if (rec.missing.length > 0) row.findings.push({ system: system.name, scenario: 'nfs', policy: row.policy, k: rec.requests, seed: 0, tier: 2, window: false, what: `live cut of the recording: acked records missing: ${rec.missing.join(' ')}` });
    }

    // Tier 2.
    const t2 = Date.now();
    const logins: number[] = [];
    let boots = 0;
    let secondCuts = 0;
    const taken = new Map<string, number>();
    for (let b = 0; boots < run.boots && b < run.boots * 4; b++) {
      const { scenario, policy } = tier2Pair(b, run.scenarios, run.policies);
      const key = `${scenario}/${policy}`;
      const pool = t1.candidates.get(key) ?? [];
      const c = pool[taken.get(key) ?? 0];
      if (!c) continue;
      taken.set(key, (taken.get(key) ?? 0) + 1);
      const row = t1.rows.find((r) => r.scenario === scenario && r.policy === policy) as Row;
      const state = crashState(requests, c.k, policy, c.seed, o.storage);
      const recut = secondCuts < run.recuts;
      const input = { system, rec, base: system.image, writesBin: join(dir, WRITES), pieces: state.pieces, k: c.k, recovery: c.recovery, scenario, part, nfs, work: dir, keep: recut };
      const r = await bootState(input);
      boots++;
      if (r.loginMs !== null) logins.push(r.loginMs);
      const failed = r.loginMs === null || r.problems.length > 0;
      count(row, 'boots', c.window);
      if (failed) count(row, 'boots_failed', c.window);
      if (r.nfs) {
        row.acked_records += r.nfs.acked;
        row.acked_records_lost += r.nfs.missing.length;
      }
      for (const what of r.problems) row.findings.push({ system: system.name, scenario, policy, k: c.k, seed: c.seed, tier: 2, window: c.window, what });
      const cut = t1.cuts.find((x) => x.scenario === scenario && x.policy === policy && x.k === c.k && x.seed === c.seed);
      if (cut) cut.boot = failed ? 'failed' : 'ok';
      o.say(`${system.name}: tier 2: ${scenario}/${policy} K=${c.k} seed=${c.seed}${c.window ? ' (window)' : ''}: ${describeBoot(r)}${r.problems.length ? `; ${r.problems.join('; ')}` : ''}`);
      // A second cut is cut into a recovery that came up clean: one that
      // did not is a finding already, and its root (the base the second
      // cut is judged against) may be too damaged to read; the 1200-cut
      // campaign died on one (nfs/flush-ignored, a bad directory entry in
      // the dpkg database).
      if (!r.boot || failed) continue;
      secondCuts++;
      const s = await secondCut({ ...input, window: c.window, policy, seed: c.seed, recDir: dir, storage: o.storage }, r.boot);
      if (!s) continue;
      count(row, 'second_cuts', s.window);
      const bad = [...damage(s.result, system.roroot && !s.inside), ...(s.boot.loginMs === null ? ['no login'] : []), ...s.boot.problems];
      if (bad.length > 0) {
        count(row, 'second_cuts_damaged', s.window);
        row.findings.push({ system: system.name, scenario, policy, k: c.k, seed: c.seed, tier: 2, window: s.window, what: `second cut K=${s.k} seed=${s.seed}: ${bad.join(' | ')}`, recut: true });
      }
      o.say(`${system.name}: second cut of K=${c.k}: K=${s.k} seed=${s.seed}${s.window ? ' (window)' : ''}: root ${s.result.verdict}; ${describeBoot(s.boot)}${bad.length ? `; ${bad.join('; ')}` : ''}`);
    }
    return {
      system: system.name,
      image: system.image,
      recording: rec,
      requests: requests.length,
      tier1: t1.stats,
      tier2: { boots, second_cuts: secondCuts, seconds_per_boot: boots ? (Date.now() - t2) / 1000 / (boots + secondCuts) : 0, login_s: logins.map((l) => l / 1000) },
      phases: phaseSpans(requests),
      cuts: t1.cuts,
      rows: t1.rows,
    };
  } finally {
    await nfs.stop();
  }
}

// A recording that fails (a prompt missed, the guest slow) is made once more
// before the campaign gives up.
async function recordOrRetry(system: System, dir: string, nfs: NfsServer, say: (line: string) => void): Promise<Recording> {
  try {
    return await record(system, dir, nfs, say);
  } catch (err) {
    say(`${system.name}: recording failed, once more: ${(err as Error).message.split('\n')[0]}`);
    return record(system, dir, nfs, say);
  }
}
