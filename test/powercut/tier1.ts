import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { crashState, rng, type Policy, type Storage } from './crash-state';
import { WRITES, type Recording } from './record';
import type { Request } from './request-log';
import { RootChecker, type Partition, type RootResult } from './root-check';
import { damage, emptyRow, tally, type Cut, type Row } from './rows';
import { cutPoints, rootWritesOutsideWindows, type Scenario } from './scenarios';
import type { System } from './systems';
import { inWindow, lastClose, writesBefore } from './windows';

// Tier 1: the recording cut `cuts` times, spread evenly over scenarios and
// policies, each crash state's root judged without booting (root-check.ts),
// two at a time.

export interface Tier1Input {
  system: System;
  rec: Recording;
  requests: Request[];
  dir: string;
  part: Partition;
  scenarios: Scenario[];
  policies: Policy[];
  cuts: number;
  seed: number;
  storage: Storage;
}

// A state tier 2 may boot: the riskier first.
export interface Candidate {
  k: number;
  seed: number;
  window: boolean;
  risk: number; // 2 damaged, 1 the root was written, 0 untouched
  recovery: boolean;
}

export interface Tier1Output {
  rows: Row[];
  cuts: Cut[];
  candidates: Map<string, Candidate[]>; // by scenario/policy
  stats: { states: number; judged: number; dpkg_runs: number; seconds: number; per_minute: number };
}

// Every state's seed, from the campaign's: a state is found again from its
// reproducer alone, whatever else the campaign ran.
export function stateSeed(seed: number, system: string, scenario: string, policy: string, n: number): number {
  return createHash('sha1').update(`${seed}/${system}/${scenario}/${policy}/${n}`).digest().readUInt32BE(0);
}

export function pickCut(points: number[], seed: number): number {
  return points[Math.floor(rng(seed ^ 0x5bd1e995)() * points.length)];
}

const IN_FLIGHT = 4;

export async function tier1(o: Tier1Input): Promise<Tier1Output> {
  const { system, requests, part } = o;
  const t0 = Date.now();
  const checker = new RootChecker(system.image, part, join(o.dir, WRITES), o.dir);
  const rows: Row[] = [];
  const cuts: Cut[] = [];
  const candidates = new Map<string, Candidate[]>();
  const references = new Map<number, string>();
  // The root as the last window before cut K left it.
  const reference = (k: number) => {
    const close = lastClose(requests, k);
    if (!references.has(close)) references.set(close, checker.keyOf(writesBefore(requests, close)));
    return references.get(close) as string;
  };
  const perRow = Math.max(1, Math.round(o.cuts / (o.scenarios.length * o.policies.length)));
  const pending = new Set<Promise<void>>();
  try {
    for (const scenario of o.scenarios) {
      const points = cutPoints(requests, o.rec, scenario);
      const outside = rootWritesOutsideWindows(requests.filter((r) => points.includes(r.i + 1)), part);
      for (const policy of o.policies) {
        const row = emptyRow(system.name, scenario, policy);
        row.root_writes_outside_window = outside.length;
        if (system.roroot && outside.length > 0) {
          const first = outside[0];
          row.findings.push({ system: system.name, scenario, policy, k: first.i + 1, seed: 0, tier: 1, window: false, what: `${outside.length} writes to the root outside a window (first: request ${first.i}, ${first.length} bytes at ${first.offset}, phase ${first.phase})` });
        }
        rows.push(row);
        const pool: Candidate[] = [];
        candidates.set(`${scenario}/${policy}`, pool);
        const keys = new Set<string>();
        // In cut order: a state differs least from the one before it, and
        // the copy it is laid on gets only the difference.
        const picks = Array.from({ length: points.length > 0 ? perRow : 0 }, (_, n) => stateSeed(o.seed, system.name, scenario, policy, n))
          .map((seed) => ({ seed, k: pickCut(points, seed) }))
          .sort((a, b) => a.k - b.k);
        for (const { seed, k } of picks) {
          const state = crashState(requests, k, policy, seed, o.storage);
          const window = inWindow(requests, state, part);
          const judged = checker.check(state.pieces, reference(k)).then((r: RootResult) => {
            tally(row, r, window);
            keys.add(r.key);
            row.states_checked = keys.size;
            const bad = damage(r, system.roroot);
            if (bad.length > 0) row.findings.push({ system: system.name, scenario, policy, k, seed, tier: 1, window, what: bad.join(' | ') });
            pool.push({ k, seed, window, risk: bad.length > 0 ? 2 : r.verdict === 'untouched' ? 0 : 1, recovery: r.recovery });
            cuts.push({ system: system.name, scenario, policy, k, seed, t: requests[k - 1].t, window, verdict: r.verdict, changed: r.changed, packages: r.packages.length > 0 });
          });
          pending.add(judged);
          judged.finally(() => pending.delete(judged));
          if (pending.size >= IN_FLIGHT) await Promise.race(pending);
        }
      }
    }
    await Promise.all(pending);
  } finally {
    checker.close();
  }
  for (const pool of candidates.values()) pool.sort((a, b) => b.risk - a.risk || a.k - b.k);
  const seconds = (Date.now() - t0) / 1000;
  const states = cuts.length;
  return { rows, cuts, candidates, stats: { states, judged: checker.checked, dpkg_runs: checker.dpkgRuns, seconds, per_minute: seconds > 0 ? (states / seconds) * 60 : 0 } };
}
