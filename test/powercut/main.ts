import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, hostname } from 'node:os';
import { join, resolve } from 'node:path';
import minimist from 'minimist';
import { NfsServer } from '../../board/nfs-server';
import { CAMPAIGN, campaign, type Run } from './campaign';
import { crashState, POLICIES, STORAGE, type CrashState, type Policy, type Storage } from './crash-state';
import { REQUESTS, WRITES, type Recording } from './record';
import { replayLine, writeReport } from './report';
import { loadRequests } from './request-log';
import { RootChecker, rootPartition, type RootResult } from './root-check';
import { damage } from './rows';
import { SCENARIOS, type Scenario } from './scenarios';
import { RECUT, recutDir, secondState, stateImage } from './second-cut';
import { recordingDir, scenariosOf, SYSTEMS, systemOn, type SystemName } from './systems';
import { tier1Worker } from './tier1';
import { describeRecord, UpgradeJudge } from './tier1-upgrade';
import { bootUpgradeState } from './tier2-upgrade';
import { isUpgradeRecording } from './record-upgrade';
import { bootState, describeBoot } from './tier2';
import { Windows, writesBefore } from './windows';

// make powercut CUTS=N [BOOTS=N] [RECUTS=N] [SCENARIO=a,b] [POLICY=a,b] [SYSTEM=a,b] [CONTROL_CUTS=N] [REPORT=name] [RECORDED=1]
//   a campaign; powercut-report.{json,md,svg} (--report) in --out;
//   SCENARIO=upgrade: the two-slot router through an A/B upgrade
//   (campaign-upgrade.ts), powercut-upgrade-report.*; RECORDED=1 cuts its
//   recording of the last campaign again.
// make powercut-replay SYSTEM= SCENARIO= POLICY= K= SEED= [IMAGE_OUT=] [BOOT=1] [RECUT=1]
//   one crash state of the last campaign's recording, again: its root
//   judged, the whole disk written to --image-out to look at, and with
//   --boot, booted and checked as tier 2 does; --recut: its second cut.

const repo = resolve(__dirname, '../..');
const args = minimist(process.argv.slice(2), {
  string: ['work', 'out', 'system', 'scenario', 'policy', 'image', 'plain-image', 'misaligned-image', 'ab-image', 'ab-update', 'image-out', 'report'],
  boolean: ['replay', 'boot', 'recut', 'reuse-recording'],
  default: {
    cuts: 240,
    boots: 3,
    recuts: 0,
    seed: 1,
    'control-cuts': 0,
    'horizon-mib': STORAGE.horizonBytes / 1048576,
    'horizon-s': STORAGE.horizonMs / 1000,
    'erase-block-mib': STORAGE.eraseBlock / 1048576,
    work: join(repo, 'build/powercut/work'),
    out: repo,
    system: 'roroot,roroot-stale,baseline',
    scenario: SCENARIOS.join(','),
    policy: POLICIES.join(','),
    image: join(repo, 'build/image/qemu-x86_64.img'),
    'plain-image': join(repo, 'build/image/qemu-x86_64-plain.img'),
    'misaligned-image': join(repo, 'build/image/qemu-x86_64-misaligned.img'),
    'ab-image': join(repo, 'build/image/qemu-ab.img'),
    'ab-update': join(repo, `build/update/qemu-ab-${(JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string }).version}-next.rorootfw`),
    report: 'powercut-report',
  },
});
// Absolute: the NFS server is given paths under it.
args.work = resolve(args.work);
// Absolute: a recording names its image, and RECORDED=1 finds it by that.
args['ab-image'] = resolve(args['ab-image']);
const say = (line: string) => process.stdout.write(`powercut: ${line}\n`);

function list<T extends string>(value: string, allowed: readonly T[], what: string): T[] {
  const items = value.split(',').filter((v) => v);
  for (const v of items) if (!allowed.includes(v as T)) throw new Error(`unknown ${what} "${v}" (one of: ${allowed.join(', ')})`);
  return items as T[];
}

async function main(): Promise<number> {
  const systems = list<SystemName>(args.system, SYSTEMS, 'system');
  const scenarios = list<Scenario>(args.scenario, SCENARIOS, 'scenario');
  const policies = list<Policy>(args.policy, POLICIES, 'policy');
  if (args.replay) return replay(systems[0], scenarios[0], policies[0], Number(args.k), Number(args.seed));
  const t0 = Date.now();
  const storage: Storage = { horizonBytes: Number(args['horizon-mib']) * 1048576, horizonMs: Number(args['horizon-s']) * 1000, eraseBlock: Number(args['erase-block-mib']) * 1048576 };
  // Each system runs the scenarios asked for that its recording has.
  const runs: Run[] = systems.map((system) => {
    const mine = scenarios.filter((s) => scenariosOf(system).includes(s));
    if (mine.length === 0) throw new Error(`system ${system} has none of the scenarios ${scenarios.join(', ')} (it has ${scenariosOf(system).join(', ')})`);
    return { system, scenarios: mine, policies, cuts: Number(args.cuts), boots: Number(args.boots), recuts: Number(args.recuts) };
  });
  const control = Number(args['control-cuts']);
  // The control: erase-block cuts where the scratch is written hardest.
  if (control > 0) runs.push({ system: 'roroot-misaligned', scenarios: ['boot', 'log-storm'], policies: ['erase-block'], cuts: control, boots: 0, recuts: 0 });
  const images = { image: args.image, plainImage: args['plain-image'], misalignedImage: args['misaligned-image'], abImage: args['ab-image'], abUpdate: args['ab-update'], work: args.work };
  const results = await campaign({ work: args.work, images, runs, seed: Number(args.seed), storage, tier1Workers: { script: __filename, count: cpus().length }, say, reuseRecording: args['reuse-recording'] });
  const model = storage.horizonBytes === STORAGE.horizonBytes && storage.horizonMs === STORAGE.horizonMs && storage.eraseBlock === STORAGE.eraseBlock ? '' : ` HORIZON_MIB=${args['horizon-mib']} HORIZON_S=${args['horizon-s']} ERASE_BLOCK_MIB=${args['erase-block-mib']}`;
  const command = `make powercut CUTS=${args.cuts} BOOTS=${args.boots} RECUTS=${args.recuts} SCENARIO=${scenarios.join(',')} POLICY=${policies.join(',')} SYSTEM=${systems.join(',')} SEED=${args.seed}${control ? ` CONTROL_CUTS=${control}` : ''}${model}${args['reuse-recording'] ? ' RECORDED=1' : ''}`;
  writeReport(args.out, args.report, { command, date: new Date().toISOString(), machine: `${hostname()}, ${cpus().length} × ${cpus()[0]?.model.trim()}, TCG`, seed: Number(args.seed), minutes: (Date.now() - t0) / 60000, storage }, results);
  for (const r of results) {
    const findings = r.rows.flatMap((w) => w.findings);
    say(`${r.system}: ${r.tier1.states} cuts (${r.rows.reduce((a, w) => a + w.window_cuts, 0)} in windows), ${findings.filter((f) => !f.window).length} findings outside windows, ${findings.filter((f) => f.window).length} inside; ${r.tier2.boots} boots, ${r.tier2.second_cuts} second cuts`);
  }
  for (const r of results) for (const w of r.rows) if (w.upgrade) say(`${r.system} upgrade/${w.policy}: ${w.cuts} cuts: ${w.upgrade.cuts_old} old, ${w.upgrade.cuts_new} new, ${w.upgrade.cuts_bricked} bricked; ${w.boots} boots: ${w.upgrade.boots_old} old, ${w.upgrade.boots_new} new, ${w.upgrade.bricked} bricked`);
  say(`report: ${join(args.out, `${args.report}.md`)}`);
  const failures = results.filter((r) => r.system === 'roroot' || r.system === 'roroot-stale' || r.system === 'roroot-ab').flatMap((r) => r.rows.flatMap((w) => w.findings.filter((f) => !f.window)));
  for (const f of failures) say(`FAILURE ${f.what}: ${replayLine(f)}`);
  return failures.length > 0 ? 1 : 0;
}

async function replay(name: SystemName, scenario: Scenario, policy: Policy, k: number, seed: number): Promise<number> {
  if (name === 'roroot-ab') return replayUpgrade(policy, k, seed);
  const dir = recordingDir(args.work, name);
  const rec = JSON.parse(readFileSync(join(dir, 'recording.json'), 'utf8')) as Recording;
  const saved = join(args.work, CAMPAIGN);
  const storage: Storage = existsSync(saved) ? (JSON.parse(readFileSync(saved, 'utf8')) as { storage: Storage }).storage : STORAGE;
  const requests = loadRequests(join(dir, REQUESTS));
  const part = rootPartition(rec.image);
  const first = crashState(requests, k, policy, seed, storage);
  let state: CrashState = first;
  let windows = new Windows(requests, part);
  let window = windows.owns(first);
  let base = rec.image;
  let writesBin = join(dir, WRITES);
  let stateRequests = requests;
  const work = join(dir, 'replay');
  mkdirSync(work, { recursive: true });
  try {
    const checker = new RootChecker(base, part, writesBin, work, 1);
    let result: RootResult;
    try {
      result = await checker.check(first.pieces, checker.keyOf(writesBefore(requests, windows.close(k))));
    } finally {
      checker.close();
    }
    if (args.recut) {
      const rd = recutDir(dir, k, seed);
      stateRequests = loadRequests(join(rd, REQUESTS));
      const second = secondState({ system: name, scenario, policy, seed }, stateRequests, (JSON.parse(readFileSync(join(rd, RECUT), 'utf8')) as { loginAt: number }).loginAt, storage);
      if (!second) throw new Error(`${rd}: no request before the login prompt to cut`);
      base = stateImage({ base, writesBin, pieces: first.pieces }, join(work, 'first-state.img'));
      writesBin = join(rd, WRITES);
      windows = new Windows(stateRequests, part, result.recovery);
      window ||= windows.owns(second);
      say(`second cut: K=${second.k} seed=${second.seed} of the recovery boot in ${rd}`);
      state = second;
      const again = new RootChecker(base, part, writesBin, work, 1);
      try {
        result = await again.check(state.pieces, again.keyOf(writesBefore(stateRequests, windows.close(state.k))));
      } finally {
        again.close();
      }
    }
    const bad = damage(result, name !== 'baseline' && !windows.inside(state.k));
    say(`${name} ${scenario}/${policy} K=${k} seed=${seed}: ${state.pending} writes at risk at the cut, ${state.lost} lost, ${state.torn} torn, ${state.damaged} erase blocks damaged; ${window ? 'a window\'s cut' : 'outside windows'}; root ${result.verdict}${result.detail ? `: ${result.detail}` : ''}; root bytes ${result.changed ? 'changed' : 'as the last window left them'}${result.packages.length ? `; packages: ${result.packages.join('; ')}` : ''}`);
    if (args['image-out']) {
      stateImage({ base, writesBin, pieces: state.pieces }, args['image-out']);
      say(`crash image: ${args['image-out']}`);
    }
    if (!args.boot) return bad.length > 0 ? 1 : 0;
    const system = systemOn(name, base);
    const nfs = await NfsServer.start(join(dir, 'nfs'));
    try {
      const r = await bootState({ system, rec, base, writesBin, pieces: state.pieces, k, recovery: result.recovery, scenario, part, nfs, work, keep: false });
      say(`${name} ${scenario}/${policy} K=${k} seed=${seed}: ${describeBoot(r)}`);
      for (const what of r.problems) say(`  ${what}`);
      return bad.length > 0 || r.problems.length > 0 ? 1 : 0;
    } finally {
      await nfs.stop();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

// An upgrade state again: decided as tier 1 decides it, and with --boot
// booted as tier 2 boots it.
async function replayUpgrade(policy: Policy, k: number, seed: number): Promise<number> {
  const dir = recordingDir(args.work, 'roroot-ab');
  const rec = JSON.parse(readFileSync(join(dir, 'recording.json'), 'utf8')) as Recording;
  if (!isUpgradeRecording(rec)) throw new Error(`${dir}: not an upgrade's recording`);
  const saved = join(args.work, CAMPAIGN);
  const storage: Storage = existsSync(saved) ? (JSON.parse(readFileSync(saved, 'utf8')) as { storage: Storage }).storage : STORAGE;
  const state = crashState(loadRequests(join(dir, REQUESTS)), k, policy, seed, storage);
  const work = join(dir, 'replay');
  const judge = new UpgradeJudge(rec.image, join(dir, WRITES), work, rec.upgrade);
  let firmware: string;
  try {
    const j = await judge.judge(state.pieces);
    firmware = j.firmware ?? 'bricked';
    say(`roroot-ab upgrade/${policy} K=${k} seed=${seed}: ${state.pending} writes at risk at the cut, ${state.lost} lost, ${state.torn} torn; ${describeRecord(j.record, j.tries)}; slot a ${j.a.verdict}; slot b ${j.slots.b.holds ? 'holds the armed image' : j.slots.b.up ? 'clean, not the armed image' : 'not the armed image, not clean (or not named)'}; comes up ${firmware}: ${j.path}`);
  } finally {
    judge.close();
  }
  if (args['image-out']) {
    stateImage({ base: rec.image, writesBin: join(dir, WRITES), pieces: state.pieces }, args['image-out']);
    say(`crash image: ${args['image-out']}`);
  }
  if (!args.boot) return firmware === 'bricked' ? 1 : 0;
  mkdirSync(work, { recursive: true });
  const r = await bootUpgradeState({ rec, base: rec.image, writesBin: join(dir, WRITES), pieces: state.pieces, work, timeoutSec: Math.round((3 * rec.loginMs) / 1000 + 180) });
  say(`roroot-ab upgrade/${policy} K=${k} seed=${seed}: booted: ${r.firmware}${r.version ? ` (${r.version})` : ''}${r.detail ? `: ${r.detail}` : ''}; status ${r.status}`);
  return r.firmware === firmware ? 0 : 1;
}

if (process.env.RORORT_TIER1_WORKER) tier1Worker();
else {
  main().then(
    (code) => (process.exitCode = code),
    (err: Error) => {
      process.stderr.write(`powercut: ${err.stack ?? err.message}\n`);
      process.exitCode = 2;
    },
  );
}
