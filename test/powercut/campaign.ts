import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { NfsServer } from '../../board/nfs-server';
import { testPackage } from '../support/test-package';
import { crashState, POLICIES, rng, type CrashState, type Policy } from './crash-state';
import { record, REQUESTS, TEST_DEB, WRITES, type Recording } from './record';
import { loadRequests, type Request } from './request-log';
import { RootChecker, rootPartition, type RootVerdict } from './root-check';
import { cutPoints, rootWritesOutsideWindows, SCENARIOS, type Scenario } from './scenarios';
import { baseline, recordingDir, roroot, staleModulesImage, type System, type SystemName } from './systems';
import { bootState, describeBoot, type Tier2Result } from './tier2';

// A campaign: record each system once, cut each recording `cuts` times
// (tier 1, spread evenly over scenarios and policies), boot `boots` of those
// states (tier 2), and count. The two systems run side by side, one QEMU
// each.

export interface CampaignOptions {
  work: string;
  image: string; // the reference router
  plainImage: string; // the same without roroot
  systems: SystemName[];
  scenarios: Scenario[];
  policies: Policy[];
  cuts: number; // tier-1 states per system
  boots: number; // tier-2 boots per system
  seed: number;
  say: (line: string) => void;
}

export interface Reproducer {
  system: SystemName;
  scenario: Scenario;
  policy: Policy;
  k: number;
  seed: number;
}

export interface Failure extends Reproducer {
  tier: 1 | 2;
  what: string;
}

export interface Cut extends Reproducer {
  t: number; // ms since power-on of the request the cut follows
  verdict: RootVerdict;
  boot?: 'ok' | 'failed';
}

export interface Row {
  system: SystemName;
  scenario: Scenario;
  policy: Policy;
  cuts: number;
  states_checked: number; // distinct crash states among the cuts' (many cuts leave the same disk)
  root_untouched: number;
  root_clean: number;
  root_repair_needed: number;
  root_journal_replay_only: number;
  root_writes_outside_window: number;
  boot_to_login_ok: number;
  boot_to_login_failed: number;
  acked_records: number;
  acked_records_lost: number;
  failures: Failure[];
}

export interface SystemResult {
  system: SystemName;
  recording: Recording;
  requests: number;
  tier1: { states: number; fsck_runs: number; seconds: number; per_minute: number };
  tier2: { boots: number; seconds_per_boot: number; login_s: number[] };
  phases: { phase: string; from: number; to: number }[]; // ms since power-on
  cuts: Cut[];
  rows: Row[];
}

// Every state's seed, from the campaign's: a state is found again from its
// reproducer alone, whatever else the campaign ran.
export function stateSeed(seed: number, system: string, scenario: string, policy: string, n: number): number {
  return createHash('sha1').update(`${seed}/${system}/${scenario}/${policy}/${n}`).digest().readUInt32BE(0);
}

export function pickCut(points: number[], seed: number): number {
  return points[Math.floor(rng(seed ^ 0x5bd1e995)() * points.length)];
}

const TIER2_ORDER: Scenario[] = ['rw-window', 'boot', 'nfs', 'log-storm'];

export async function campaign(o: CampaignOptions): Promise<SystemResult[]> {
  return Promise.all(o.systems.map((name) => runSystem(name, o)));
}

async function runSystem(name: SystemName, o: CampaignOptions): Promise<SystemResult> {
  const dir = recordingDir(o.work, name);
  mkdirSync(dir, { recursive: true });
  const system: System = name === 'roroot' ? roroot(staleModulesImage(o.image, join(o.work, 'roroot-stale-modules.img'))) : baseline(o.plainImage);
  const nfs = await NfsServer.start(join(dir, 'nfs'));
  try {
    testPackage(dir, 'powercut-test', join(nfs.exportDir, TEST_DEB), 2048);
    const rec = await record(system, dir, nfs, o.say);
    const requests = loadRequests(join(dir, REQUESTS));
    const part = rootPartition(system.image);
    const rows: Row[] = [];
    const cuts: Cut[] = [];
    const states = new Map<string, { state: CrashState; verdict: RootVerdict }[]>();

    // Tier 1.
    const t1 = Date.now();
    const checker = new RootChecker(system.image, part, join(dir, WRITES), dir);
    const perRow = Math.max(1, Math.round(o.cuts / (o.scenarios.length * o.policies.length)));
    try {
      for (const scenario of o.scenarios) {
        const points = cutPoints(requests, rec, scenario);
        const outside = rootWritesOutsideWindows(requests.filter((r) => points.includes(r.i + 1)), part);
        for (const policy of o.policies) {
          const row = emptyRow(name, scenario, policy);
          row.root_writes_outside_window = outside.length;
          if (name === 'roroot' && outside.length > 0) {
            row.failures.push({ system: name, scenario, policy, k: outside[0].i + 1, seed: 0, tier: 1, what: `${outside.length} writes to the root outside a window (first: request ${outside[0].i}, ${outside[0].length} bytes at ${outside[0].offset}, phase ${outside[0].phase})` });
          }
          if (scenario === 'nfs') {
            row.acked_records = rec.acked;
            row.acked_records_lost = rec.missing.length;
            if (rec.missing.length > 0) row.failures.push({ system: name, scenario, policy, k: rec.requests, seed: 0, tier: 2, what: `live cut of the recording: acked records missing: ${rec.missing.join(' ')}` });
          }
          const key = `${scenario}/${policy}`;
          states.set(key, []);
          const distinct = new Set<string>();
          for (let n = 0; n < perRow && points.length > 0; n++) {
            const seed = stateSeed(o.seed, name, scenario, policy, n);
            const k = pickCut(points, seed);
            const state = crashState(requests, k, policy, seed);
            const result = checker.check(state.pieces);
            row.cuts++;
            distinct.add(createHash('sha1').update(JSON.stringify(state.pieces)).digest('hex'));
            row.states_checked = distinct.size;
            if (result.verdict === 'untouched') row.root_untouched++;
            if (result.verdict === 'clean') row.root_clean++;
            if (result.verdict === 'replay') row.root_journal_replay_only++;
            if (result.verdict === 'errors') {
              row.root_repair_needed++;
              row.failures.push({ system: name, scenario, policy, k, seed, tier: 1, what: result.detail });
            }
            states.get(key)?.push({ state, verdict: result.verdict });
            cuts.push({ system: name, scenario, policy, k, seed, t: requests[k - 1].t, verdict: result.verdict });
          }
          rows.push(row);
        }
      }
    } finally {
      checker.close();
    }
    const t1s = (Date.now() - t1) / 1000;
    const statesChecked = rows.reduce((a, r) => a + r.cuts, 0);
    o.say(`${name}: tier 1: ${statesChecked} states in ${t1s.toFixed(1)} s (${checker.checked} e2fsck runs)`);

    // Tier 2: round-robin over scenarios and policies, the states that
    // touched the root first (they are the ones that can hurt).
    const t2 = Date.now();
    const logins: number[] = [];
    const plan: { scenario: Scenario; policy: Policy; state: CrashState; verdict: RootVerdict }[] = [];
    // Boot b takes the b-th scenario (the riskiest first) and the b-th
    // policy: 4 scenarios and 3 policies meet in every pair within 12 boots.
    const order = TIER2_ORDER.filter((s) => o.scenarios.includes(s));
    const pairs = o.scenarios.length * o.policies.length;
    for (let b = 0; plan.length < o.boots && b < o.boots * 4; b++) {
      const scenario = order[b % order.length];
      const policy = o.policies[b % o.policies.length];
      const pool = states.get(`${scenario}/${policy}`) ?? [];
      const round = Math.floor(b / pairs);
      const ranked = [...pool.filter((s) => s.verdict !== 'untouched'), ...pool.filter((s) => s.verdict === 'untouched')];
      if (ranked[round]) plan.push({ scenario, policy, ...ranked[round] });
    }
    for (const { scenario, policy, state, verdict } of plan) {
      const row = rows.find((r) => r.scenario === scenario && r.policy === policy) as Row;
      const r: Tier2Result = await bootState(system, rec, dir, state, verdict, scenario, part, nfs, dir);
      const ok = r.loginMs !== null;
      if (ok) {
        row.boot_to_login_ok++;
        logins.push(r.loginMs as number);
      } else row.boot_to_login_failed++;
      if (r.nfs) {
        row.acked_records += r.nfs.acked;
        row.acked_records_lost += r.nfs.missing.length;
      }
      for (const what of r.problems) row.failures.push({ system: name, scenario, policy, k: state.k, seed: state.seed, tier: 2, what });
      const cut = cuts.find((c) => c.scenario === scenario && c.policy === policy && c.k === state.k && c.seed === state.seed);
      if (cut) cut.boot = ok && r.problems.length === 0 ? 'ok' : 'failed';
      o.say(`${name}: tier 2: ${scenario}/${policy} K=${state.k} seed=${state.seed}: ${describeBoot(r)}${r.problems.length ? `; ${r.problems.join('; ')}` : ''}`);
    }
    const t2s = (Date.now() - t2) / 1000;
    return {
      system: name,
      recording: rec,
      requests: requests.length,
      tier1: { states: statesChecked, fsck_runs: checker.checked, seconds: t1s, per_minute: t1s > 0 ? (statesChecked / t1s) * 60 : 0 },
      tier2: { boots: plan.length, seconds_per_boot: plan.length ? t2s / plan.length : 0, login_s: logins.map((l) => l / 1000) },
      phases: phaseSpans(requests),
      cuts,
      rows,
    };
  } finally {
    await nfs.stop();
  }
}

function emptyRow(system: SystemName, scenario: Scenario, policy: Policy): Row {
  return { system, scenario, policy, cuts: 0, states_checked: 0, root_untouched: 0, root_clean: 0, root_repair_needed: 0, root_journal_replay_only: 0, root_writes_outside_window: 0, boot_to_login_ok: 0, boot_to_login_failed: 0, acked_records: 0, acked_records_lost: 0, failures: [] };
}

function phaseSpans(requests: Request[]): { phase: string; from: number; to: number }[] {
  const out: { phase: string; from: number; to: number }[] = [];
  for (const r of requests) {
    const last = out[out.length - 1];
    if (last && last.phase === r.phase) last.to = r.t;
    else out.push({ phase: r.phase, from: r.t, to: r.t });
  }
  return out;
}

export { SCENARIOS, POLICIES };
