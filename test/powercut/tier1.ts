import { fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { crashState, rng, type Policy, type Storage } from './crash-state';
import { REQUESTS, WRITES, type Recording } from './record';
import { loadRequests, type Request } from './request-log';
import { RootChecker, type Partition, type RootResult } from './root-check';
import { damage, emptyRow, tally, type Cut, type Row } from './rows';
import { cutPoints, rootWritesOutsideWindows, type Scenario } from './scenarios';
import type { System } from './systems';
import { Windows, writesBefore } from './windows';

// Tier 1: the recording cut `cuts` times, spread evenly over scenarios and
// policies, each crash state's root judged without booting (root-check.ts).
// With a worker script, the rows are shared out among worker processes
// (this bundle again, RORORT_TIER1_WORKER set), one per core: judging is
// JavaScript as much as it is e2fsck.

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
  workers: { script: string; count: number } | null;
}

// A state tier 2 may boot.
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
  stats: { states: number; judged: number; dpkg_runs: number; workers: number; setup_seconds: number; seconds: number; per_minute: number };
}

// Every state's seed, from the campaign's: a state is found again from its
// reproducer alone, whatever else the campaign ran.
export function stateSeed(seed: number, system: string, scenario: string, policy: string, n: number): number {
  return createHash('sha1').update(`${seed}/${system}/${scenario}/${policy}/${n}`).digest().readUInt32BE(0);
}

export function pickCut(points: number[], seed: number): number {
  return points[Math.floor(rng(seed ^ 0x5bd1e995)() * points.length)];
}

interface Job {
  row: number;
  policy: Policy;
  k: number;
  seed: number;
}

interface Judged extends Job {
  window: boolean; // a window owns the cut
  inside: boolean; // the cut falls while one is open
  result: RootResult;
}

// What a worker is given, and what it answers.
interface WorkOrder {
  image: string;
  part: Partition;
  dir: string;
  work: string;
  storage: Storage;
  slots: number; // copies of the root to judge on: one per state in flight
  jobs: Job[];
}
type Answer = { judged: Judged } | { done: { judged: number; dpkgRuns: number; setupSeconds: number } };

const IN_FLIGHT = 4;

// Judges `jobs` in turn, a few at a time; `each` gets every answer.
async function judge(w: WorkOrder, each: (j: Judged) => void): Promise<{ judged: number; dpkgRuns: number; setupSeconds: number }> {
  const t0 = Date.now();
  const requests = loadRequests(join(w.dir, REQUESTS));
  mkdirSync(w.work, { recursive: true });
  const checker = new RootChecker(w.image, w.part, join(w.dir, WRITES), w.work, w.slots);
  const setupSeconds = (Date.now() - t0) / 1000;
  const windows = new Windows(requests, w.part);
  const references = new Map<number, string>();
  // The root as the last window before cut K left it.
  const reference = (k: number) => {
    const close = windows.close(k);
    if (!references.has(close)) references.set(close, checker.keyOf(writesBefore(requests, close)));
    return references.get(close) as string;
  };
  const pending = new Set<Promise<void>>();
  try {
    for (const job of w.jobs) {
      const state = crashState(requests, job.k, job.policy, job.seed, w.storage);
      const p = checker.check(state.pieces, reference(job.k)).then((result) => each({ ...job, window: windows.owns(state), inside: windows.inside(job.k), result }));
      pending.add(p);
      p.finally(() => pending.delete(p));
      if (pending.size >= IN_FLIGHT) await Promise.race(pending);
    }
    await Promise.all(pending);
  } finally {
    checker.close();
  }
  return { judged: checker.checked, dpkgRuns: checker.dpkgRuns, setupSeconds };
}

// The worker's side: one work order on the IPC channel, answers back.
export function tier1Worker() {
  process.once('message', (w: WorkOrder) => {
    judge(w, (judged) => process.send?.({ judged } satisfies Answer)).then(
      (done) => process.send?.({ done } satisfies Answer, () => process.exit(0)),
      (err: Error) => {
        process.stderr.write(`tier 1 worker: ${err.stack ?? err.message}\n`);
        process.exit(2);
      },
    );
  });
}

function inWorker(script: string, w: WorkOrder, each: (j: Judged) => void): Promise<{ judged: number; dpkgRuns: number; setupSeconds: number }> {
  return new Promise((resolve, reject) => {
    const child = fork(script, [], { env: { ...process.env, RORORT_TIER1_WORKER: '1' } });
    let done: { judged: number; dpkgRuns: number; setupSeconds: number } | null = null;
    child.on('message', (a: Answer) => {
      if ('judged' in a) each(a.judged);
      else done = a.done;
    });
    child.on('error', reject);
    child.on('exit', (code) => (done ? resolve(done) : reject(new Error(`tier 1 worker ${script}: exit ${code}`))));
    child.send(w);
  });
}

export async function tier1(o: Tier1Input): Promise<Tier1Output> {
  const { system, requests, part } = o;
  const t0 = Date.now();
  const rows: Row[] = [];
  const cuts: Cut[] = [];
  const candidates = new Map<string, Candidate[]>();
  const jobs: Job[] = [];
  const perRow = Math.max(1, Math.round(o.cuts / (o.scenarios.length * o.policies.length)));
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
      candidates.set(`${scenario}/${policy}`, []);
      // In cut order: a state differs least from the one before it, and
      // the copy it is laid on gets only the difference.
      const picks = Array.from({ length: points.length > 0 ? perRow : 0 }, (_, n) => stateSeed(o.seed, system.name, scenario, policy, n))
        .map((seed) => ({ row: rows.length, policy, seed, k: pickCut(points, seed) }))
        .sort((a, b) => a.k - b.k);
      jobs.push(...picks);
      rows.push(row);
    }
  }
  const keys = rows.map(() => new Set<string>());
  const each = ({ row: index, policy, k, seed, window, inside, result: r }: Judged) => {
    const row = rows[index];
    tally(row, r, window);
    keys[index].add(r.key);
    row.states_checked = keys[index].size;
    const bytesMatter = system.roroot && !inside;
    const bad = damage(r, bytesMatter);
    if (bad.length > 0) row.findings.push({ system: system.name, scenario: row.scenario, policy, k, seed, tier: 1, window, what: bad.join(' | ') });
    candidates.get(`${row.scenario}/${policy}`)?.push({ k, seed, window, risk: bad.length > 0 ? 2 : r.verdict === 'untouched' ? 0 : 1, recovery: r.recovery });
    cuts.push({ system: system.name, scenario: row.scenario, policy, k, seed, t: requests[k - 1].t, window, verdict: r.verdict, changed: r.changed && bytesMatter, packages: r.packages.length > 0 });
  };
  // Two states at a time in each: while e2fsck looks at one, the next is laid.
  const order = (share: Job[], n: number): WorkOrder => ({ image: system.image, part, dir: o.dir, work: join(o.dir, `tier1-${n}`), storage: o.storage, slots: 2, jobs: share });
  const count = o.workers ? Math.max(1, o.workers.count) : 1;
  // Whole rows to each worker: a row's states are alike and judged in order.
  const shares = Array.from({ length: count }, (_, n) => jobs.filter((j) => j.row % count === n));
  const done = o.workers ? await Promise.all(shares.map((share, n) => inWorker((o.workers as { script: string }).script, order(share, n), each))) : [await judge(order(jobs, 0), each)];
  // Outside a window and inside one by turns, the riskiest first of each.
  for (const [key, pool] of candidates) {
    const riskiest = (window: boolean) => pool.filter((c) => c.window === window).sort((a, b) => b.risk - a.risk || a.k - b.k);
    const [outside, inside] = [riskiest(false), riskiest(true)];
    candidates.set(key, Array.from({ length: Math.max(outside.length, inside.length) }, (_, i) => [outside[i], inside[i]]).flat().filter((c): c is Candidate => c !== undefined));
  }
  const seconds = (Date.now() - t0) / 1000;
  const setup = Math.max(...done.map((d) => d.setupSeconds));
  const states = cuts.length;
  return {
    rows,
    cuts,
    candidates,
    stats: { states, judged: done.reduce((a, d) => a + d.judged, 0), dpkg_runs: done.reduce((a, d) => a + d.dpkgRuns, 0), workers: count, setup_seconds: setup, seconds, per_minute: seconds > 0 ? (states / seconds) * 60 : 0 },
  };
}
