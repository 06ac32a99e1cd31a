import { execFileSync } from 'node:child_process';
import { mkdirSync, openSync, closeSync, readFileSync } from 'node:fs';
import { cpus, hostname } from 'node:os';
import { join, resolve } from 'node:path';
import minimist from 'minimist';
import { campaign, SCENARIOS, POLICIES } from './campaign';
import { crashState, type Policy } from './crash-state';
import { REQUESTS, WRITES, type Recording } from './record';
import { writeReport } from './report';
import { loadRequests } from './request-log';
import { RootChecker, rootPartition } from './root-check';
import { copyRange } from './sector-disk';
import type { Scenario } from './scenarios';
import { baseline, recordingDir, roroot, type SystemName } from './systems';
import { bootState, describeBoot } from './tier2';
import { NfsServer } from '../../board/nfs-server';

// make powercut CUTS=N [BOOTS=N] [SCENARIO=a,b] [POLICY=a,b] [SYSTEM=a,b]
//   a campaign; powercut-report.{json,md,svg} in --out.
// make powercut-replay SYSTEM= SCENARIO= POLICY= K= SEED= [IMAGE_OUT=] [BOOT=1]
//   one crash state of the last campaign's recording, again: its root
//   checked, the whole disk written to --image-out to look at, and with
//   --boot, booted and checked as tier 2 does.

const repo = resolve(__dirname, '../..');
const args = minimist(process.argv.slice(2), {
  string: ['work', 'out', 'system', 'scenario', 'policy', 'image', 'plain-image', 'image-out'],
  boolean: ['replay', 'boot'],
  default: { cuts: 240, boots: 3, seed: 1, work: join(repo, 'build/powercut/work'), out: repo, system: 'roroot,baseline', scenario: SCENARIOS.join(','), policy: POLICIES.join(','), image: join(repo, 'build/image/qemu-x86_64.img'), 'plain-image': join(repo, 'build/image/qemu-x86_64-plain.img') },
});
const say = (line: string) => process.stdout.write(`powercut: ${line}\n`);

function list<T extends string>(value: string, allowed: readonly T[], what: string): T[] {
  const items = value.split(',').filter((v) => v);
  for (const v of items) if (!allowed.includes(v as T)) throw new Error(`unknown ${what} "${v}" (one of: ${allowed.join(', ')})`);
  return items as T[];
}

async function main(): Promise<number> {
  const systems = list<SystemName>(args.system, ['roroot', 'baseline'], 'system');
  const scenarios = list<Scenario>(args.scenario, SCENARIOS, 'scenario');
  const policies = list<Policy>(args.policy, POLICIES, 'policy');
  if (args.replay) return replay(systems[0], scenarios[0], policies[0], Number(args.k), Number(args.seed));
  const t0 = Date.now();
  mkdirSync(args.work, { recursive: true });
  const results = await campaign({ work: args.work, image: args.image, plainImage: args['plain-image'], systems, scenarios, policies, cuts: Number(args.cuts), boots: Number(args.boots), seed: Number(args.seed), say });
  const command = `make powercut CUTS=${args.cuts} BOOTS=${args.boots} SCENARIO=${scenarios.join(',')} POLICY=${policies.join(',')} SYSTEM=${systems.join(',')} SEED=${args.seed}`;
  writeReport(args.out, { command, date: new Date().toISOString(), machine: `${hostname()}, ${cpus().length} × ${cpus()[0]?.model.trim()}, TCG`, seed: Number(args.seed), minutes: (Date.now() - t0) / 60000 }, results);
  for (const r of results) {
    const bad = r.rows.reduce((a, w) => a + w.failures.length, 0);
    say(`${r.system}: ${r.tier1.states} cuts, ${r.rows.reduce((a, w) => a + w.root_repair_needed, 0)} roots needing repair, ${r.tier2.boots} boots (${r.rows.reduce((a, w) => a + w.boot_to_login_failed, 0)} without login), ${bad} failures`);
  }
  say(`report: ${join(args.out, 'powercut-report.md')}`);
  const rorootFailures = results.filter((r) => r.system === 'roroot').flatMap((r) => r.rows.flatMap((w) => w.failures));
  return rorootFailures.length > 0 ? 1 : 0;
}

async function replay(name: SystemName, scenario: Scenario, policy: Policy, k: number, seed: number): Promise<number> {
  const dir = recordingDir(args.work, name);
  const rec = JSON.parse(readFileSync(join(dir, 'recording.json'), 'utf8')) as Recording;
  const state = crashState(loadRequests(join(dir, REQUESTS)), k, policy, seed);
  const part = rootPartition(rec.image);
  const checker = new RootChecker(rec.image, part, join(dir, WRITES), dir);
  const result = checker.check(state.pieces);
  checker.close();
  say(`${name} ${scenario}/${policy} K=${k} seed=${seed}: ${state.pending} writes cached at the cut, ${state.lost} lost, ${state.torn} torn; root ${result.verdict}${result.detail ? `: ${result.detail}` : ''}`);
  if (args['image-out']) {
    execFileSync('cp', ['--sparse=always', rec.image, args['image-out']]);
    const to = openSync(args['image-out'], 'r+');
    const from = openSync(join(dir, WRITES), 'r');
    for (const p of state.pieces) copyRange(from, p.at, to, p.offset, p.length);
    closeSync(to);
    closeSync(from);
    say(`crash image: ${args['image-out']}`);
  }
  if (!args.boot) return result.verdict === 'errors' ? 1 : 0;
  const system = name === 'roroot' ? roroot(rec.image) : baseline(rec.image);
  const nfs = await NfsServer.start(join(dir, 'nfs'));
  try {
    const r = await bootState(system, rec, dir, state, result.verdict, scenario, part, nfs, dir);
    say(`${name} ${scenario}/${policy} K=${k} seed=${seed}: ${describeBoot(r)}`);
    for (const what of r.problems) say(`  ${what}`);
    return result.verdict === 'errors' || r.problems.length > 0 ? 1 : 0;
  } finally {
    await nfs.stop();
  }
}

main().then(
  (code) => (process.exitCode = code),
  (err: Error) => {
    process.stderr.write(`powercut: ${err.stack ?? err.message}\n`);
    process.exitCode = 2;
  },
);
