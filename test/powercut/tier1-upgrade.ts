import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { BootRecord, Slot } from '../../init/upgrade/boot-state';
import { clip, crashState, type Piece, type Policy, type Storage } from './crash-state';
import { WRITES } from './record';
import type { UpgradeRecording } from './record-upgrade';
import type { Request } from './request-log';
import { RootChecker, type Partition, type RootResult } from './root-check';
import { emptyRow, emptyUpgradeCounts, tally, type Cut, type Row, type UpgradeCounts } from './rows';
import { cutPoints, touchesPartition } from './scenarios';
import { slotLayout, type SlotLayout } from './slot-layout';
import { StateBytes } from './state-bytes';
import type { System } from './systems';
import { pickCut, stateSeed, type Tier1Output } from './tier1';
import { outcome, readRecords, type Firmware, type SlotFacts } from './upgrade-outcome';

// Tier 1 of the upgrade scenario (roroot-ab): each crash state judged on
// the host for what a router would boot. The boot records and the tries
// are read off the state's boot partition; slot a (the running root,
// never written by an upgrade) gets the root check every scenario's root
// gets (root-check.ts); slot b, when a record names it, is hashed as the
// state leaves it and compared with the record's sha256, and when it does
// not hold the image, e2fsck -fn says whether it could come up at all.
// upgrade-outcome.ts decides. The cuts are spread over the stretches
// between writes to the boot partition (bootStateSpans). The rows count the cuts by the firmware
// they come up with; the states tier 2 boots are chosen from the
// candidates, the riskiest first.

export interface UpgradeCandidate {
  k: number;
  seed: number;
  risk: number; // 3 bricked or new from a slot that lost its image, 2 the trial slot lost its image, 1 a fallback, 0 none
  firmware: Firmware | null; // tier 1's decision
  path: string; // the boots it expects
  key: string; // what decides the boots: same key, same boots
}

export interface UpgradeTier1 extends Omit<Tier1Output, 'candidates'> {
  candidates: Map<Policy, UpgradeCandidate[]>;
  layout: SlotLayout;
}

export interface UpgradeTier1Input {
  system: System;
  rec: UpgradeRecording;
  requests: Request[];
  dir: string;
  policies: Policy[];
  cuts: number;
  seed: number;
  storage: Storage;
}

const FIRMWARE: Record<Slot, Firmware> = { a: 'old', b: 'new' }; // the recording upgrades a to b

const sha1 = (x: unknown) => createHash('sha1').update(JSON.stringify(x)).digest('hex');

// One crash state's judgement: what it leaves that decides the boots, and
// the boots upgrade-outcome.ts expects of it.
export interface UpgradeJudgement {
  record: BootRecord | null;
  tries: number;
  a: RootResult; // slot a's root check
  slots: Record<Slot, SlotFacts>;
  firmware: Firmware | null;
  path: string;
  key: string; // same key, same boots
}

export class UpgradeJudge {
  readonly layout: SlotLayout;
  private readonly checkA: RootChecker;
  private readonly bytes: StateBytes;
  private readonly slotB = new Map<string, SlotFacts>(); // by its pieces: hashed once each

  constructor(
    image: string,
    writesBin: string,
    private readonly work: string,
    private readonly armed: { size: number; sha256: string },
  ) {
    this.layout = slotLayout(image);
    mkdirSync(work, { recursive: true });
    this.checkA = new RootChecker(image, this.layout.slots.a, writesBin, work, 1);
    this.bytes = new StateBytes(image, writesBin);
  }

  get dpkgRuns(): number {
    return this.checkA.dpkgRuns;
  }

  async judge(pieces: Piece[]): Promise<UpgradeJudgement> {
    const { layout, bytes } = this;
    const block = (at: number) => bytes.read(pieces, at, layout.block);
    const { record, tries } = readRecords({ copies: [block(layout.copies[0]), block(layout.copies[1])], tries: block(layout.tries) });
    const a = await this.checkA.check(pieces);
    const names = (s: Slot) => !!record && (record.trial === s || record.default === s);
    const slots: Record<Slot, SlotFacts> = { a: { up: a.verdict !== 'errors', holds: false }, b: names('b') ? this.factsB(pieces) : { up: false, holds: false } };
    const o = outcome(record, tries, slots, FIRMWARE);
    return { record, tries, a, slots, firmware: o.firmware, path: o.path.join('; '), key: sha1([record, tries, a.key, slots.b]) };
  }

  private factsB(pieces: Piece[]): SlotFacts {
    const b = this.layout.slots.b;
    const key = sha1(clip(pieces, b.start, b.size));
    let f = this.slotB.get(key);
    if (!f) {
      const holds = this.bytes.sha256(pieces, b.start, this.armed.size) === this.armed.sha256;
      f = { holds, up: holds || this.e2fsckClean(pieces) };
      this.slotB.set(key, f);
    }
    return f;
  }

  // Slot b as the state leaves it, e2fsck -fn on a copy: could it come up.
  private e2fsckClean(pieces: Piece[]): boolean {
    const copy = join(this.work, 'slot-b.img');
    try {
      this.bytes.save(pieces, this.layout.slots.b.start, this.layout.slots.b.size, copy);
      return spawnSync('e2fsck', ['-fn', copy], { stdio: 'ignore' }).status === 0;
    } finally {
      rmSync(copy, { force: true });
    }
  }

  close() {
    this.checkA.close();
    this.bytes.close();
  }
}

export async function tier1Upgrade(o: UpgradeTier1Input): Promise<UpgradeTier1> {
  const t0 = Date.now();
  const judge = new UpgradeJudge(o.system.image, join(o.dir, WRITES), join(o.dir, 'tier1-upgrade'), o.rec.upgrade);
  const setup = (Date.now() - t0) / 1000;
  const rows: Row[] = [];
  const cuts: Cut[] = [];
  const candidates = new Map<Policy, UpgradeCandidate[]>();
  const points = cutPoints(o.requests, o.rec, 'upgrade');
  const spans = bootStateSpans(points, o.requests, judge.layout.boot);
  const perRow = Math.max(1, Math.round(o.cuts / o.policies.length));
  let judged = 0;
  try {
    for (const policy of o.policies) {
      const row = emptyRow(o.system.name, 'upgrade', policy);
      const counts: UpgradeCounts = emptyUpgradeCounts();
      row.upgrade = counts;
      rows.push(row);
      const pool: UpgradeCandidate[] = [];
      candidates.set(policy, pool);
      const keys = new Set<string>();
      const picks = Array.from({ length: points.length > 0 ? perRow : 0 }, (_, n) => stateSeed(o.seed, o.system.name, 'upgrade', policy, n))
        .map((seed, n) => ({ seed, k: pickCut(spans[n % spans.length], seed) }))
        .sort((a, b) => a.k - b.k);
      for (const { k, seed } of picks) {
        const j = await judge.judge(crashState(o.requests, k, policy, seed, o.storage).pieces);
        judged++;
        tally(row, j.a, false);
        keys.add(j.key);
        row.states_checked = keys.size;
        const r = j.record;
        const lost = !!r && r.trial === 'b' && j.tries > 0 && !j.slots.b.holds;
        const fallback = !!r && (r.trial === 'b' || r.default === 'b') && j.firmware === 'old';
        if (j.firmware === 'old') counts.cuts_old++;
        else if (j.firmware === 'new') counts.cuts_new++;
        else counts.cuts_bricked++;
        if (lost) counts.trial_image_lost++;
        if (fallback) counts.fallbacks++;
        if (j.firmware === null) row.findings.push({ system: o.system.name, scenario: 'upgrade', policy, k, seed, tier: 1, window: false, what: `bricked: ${describeRecord(r, j.tries)}: ${j.path}` });
        // New firmware from a slot b that does not hold its image (the
        // committed default, its writes lost after the trial's check):
        // e2fsck does not read file data, so tier 2 boots those first too.
        const unproven = j.firmware === 'new' && !j.slots.b.holds;
        if (unproven) counts.committed_image_lost++;
        pool.push({ k, seed, risk: j.firmware === null || unproven ? 3 : lost ? 2 : fallback ? 1 : 0, firmware: j.firmware, path: j.path, key: j.key });
        cuts.push({ system: o.system.name, scenario: 'upgrade', policy, k, seed, t: o.requests[k - 1].t, window: false, verdict: j.a.verdict, changed: false, packages: false, firmware: j.firmware ?? 'bricked' });
      }
    }
  } finally {
    judge.close();
  }
  [...candidates].forEach(([policy, pool], n) => candidates.set(policy, bootOrder(pool, n)));
  const seconds = (Date.now() - t0) / 1000;
  return { rows, cuts, candidates, layout: judge.layout, stats: { states: cuts.length, judged, dpkg_runs: judge.dpkgRuns, workers: 1, setup_seconds: setup, seconds, per_minute: seconds > 0 ? (cuts.length / seconds) * 60 : 0 } };
}

// The cut points split where the boot partition is written (the trial
// armed, GRUB's try counted down, the commit): the few requests between
// the arm's or the commit's two writes decide as much as the thousands
// that write slot b, so each stretch gets its share of the cuts, and a
// cut within a stretch falls on any of its points alike. A cut K is after
// a write when the write is among requests 0..K-1.
export function bootStateSpans(points: number[], requests: Request[], boot: Partition): number[][] {
  const writes = requests.filter((r) => touchesPartition(r, boot)).map((r) => r.i);
  const spans: number[][] = Array.from({ length: writes.length + 1 }, () => []);
  for (const k of points) spans[writes.filter((w) => w < k).length].push(k);
  return spans.filter((x) => x.length > 0);
}

// The order tier 2 boots a policy's states in: one state per distinct key
// before any twice, and three kinds by turns: the risky (riskiest first),
// those that come up new, those that come up old (earliest cut first).
// `start` is the kind a policy begins with (campaign-upgrade.ts gives the
// n-th policy n): a round of boots, one per policy, sees every kind, so
// that even BOOTS=3 boots a state of each firmware and a risky one.
export function bootOrder(pool: UpgradeCandidate[], start = 0): UpgradeCandidate[] {
  const seen = new Set<string>();
  const first: UpgradeCandidate[] = [];
  const again: UpgradeCandidate[] = [];
  for (const c of [...pool].sort((x, y) => y.risk - x.risk || x.k - y.k)) {
    if (seen.has(c.key)) again.push(c);
    else {
      seen.add(c.key);
      first.push(c);
    }
  }
  const kinds = [first.filter((c) => c.risk > 0), first.filter((c) => c.risk === 0 && c.firmware === 'new'), first.filter((c) => c.risk === 0 && c.firmware !== 'new')];
  const out: UpgradeCandidate[] = [];
  for (let turn = start % kinds.length; kinds.some((q) => q.length > 0); turn = (turn + 1) % kinds.length) {
    const next = kinds[turn].shift();
    if (next) out.push(next);
  }
  return [...out, ...again];
}

export function describeRecord(r: ReturnType<typeof readRecords>['record'], tries: number): string {
  return r ? `record seq ${r.seq}: default ${r.default}, trial ${r.trial}, tries ${tries}` : `no valid record, tries ${tries}`;
}
