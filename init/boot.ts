import { spawn } from 'node:child_process';
import type { Config } from './config/config';
import type { Facts } from './plan/facts';
import { activation, planBoot, planStateFiles, stateFilesPaths } from './plan/plan';
import type { Plan } from './plan/steps';
import { writeRecord, type BootRecord } from './record';
import type { ModulesFact } from './plan/modules-dep';
import { probeModules } from './rw/modules-dep';
import { execute, type ExecContext, type Execution } from './sys/execute';
import { formatMs, Logger } from './sys/log';
import { pathFact, probe } from './sys/probe';
import { readConfig, readText } from './sys/read-config';
import { VERSION } from './version';

// config -> probe -> plan -> execute, in rounds: the kernel filesystems come
// first because the command line and the devices can only be read after
// them, and the state files list only once the state is mounted.

export interface BootOptions {
  root: string;
  cmdline: string | null; // instead of /proc/cmdline
  release: string; // the kernel whose modules.dep is checked (uname -r)
  kmsg: string | null; // where kernel log lines go; null: console only
  background: boolean; // start the NFS retry in the background when needed
  console: (line: string) => void;
}

export interface Round {
  config: Config;
  facts: Facts;
  plan: Plan;
}

// `release`: also check that kernel's modules.dep, with one find over its
// ~4000 files (1.6 s with a cold page cache in the QEMU guest) that runs
// while the devices are probed; `modules`: that fact from an earlier round
// of the same boot, not probed again (the pseudo mounts do not change it).
export async function planRound(root: string, cmdline: string | null, release: string | null, modules: ModulesFact | null = null): Promise<Round> {
  const config = readConfig(root, cmdline);
  const probeDep = modules === null && release !== null && activation(config).active;
  const [probed, fact] = await Promise.all([probe(root, config), probeDep ? probeModules(root, release) : modules]);
  const facts = fact ? { ...probed, modules: fact } : probed;
  return { config, facts, plan: planBoot(config, facts) };
}

export async function boot(opts: BootOptions): Promise<{ ok: boolean; record: BootRecord }> {
  const started = new Date();
  const t0 = process.hrtime.bigint();
  const log = new Logger(opts.console, opts.kmsg);
  const exec: Execution = { results: [], fatal: false, retry: [] };
  let round = await planRound(opts.root, opts.cmdline, opts.release);
  const ctx: ExecContext = { root: opts.root, log, mounted: new Set(round.facts.mounts.map((m) => m.target)) };

  const pseudo = round.plan.steps.filter((s) => s.phase === 'pseudo');
  if (pseudo.length > 0) {
    merge(exec, await execute(pseudo, ctx));
    log.openKmsg();
    round = await planRound(opts.root, opts.cmdline, opts.release, round.facts.modules);
  }
  const { config, plan } = round;
  log.info(`boot: ${plan.active ? 'on' : 'off'} (${plan.reason})${plan.active ? '' : ', handing over'}`);
  for (const e of plan.configErrors) log.warn(`config: ${e}`);
  for (const w of plan.warnings) log.warn(`plan: ${w}`);
  for (const n of plan.notes) log.info(`plan: ${n}`);
  if (round.facts.modules?.exists && !plan.steps.some((s) => s.kind === 'depmod')) log.info(`modules: ${round.facts.modules.dir}/modules.dep is current, no window`);

  if (plan.active && !exec.fatal) {
    merge(exec, await execute(plan.steps.filter((s) => s.phase !== 'pseudo'), ctx));
    if (!exec.fatal) await mountStateFiles(round, ctx, exec, plan);
  }
  const totalMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const failed = exec.results.filter((r) => r.status === 'failed').length;
  log.info(`boot: done in ${formatMs(totalMs)} ms, ${exec.results.length} steps, ${failed} failed${exec.fatal ? ', NOTHING USABLE: no writable space' : ''}`);
  const record: BootRecord = {
    version: VERSION,
    started: started.toISOString(),
    active: plan.active,
    reason: plan.reason,
    totalMs,
    fatal: exec.fatal,
    steps: exec.results,
    notes: plan.notes,
    configErrors: plan.configErrors,
    warnings: plan.warnings,
  };
  if (plan.active && ctx.mounted.has(config.settings.rwMount)) {
    try {
      writeRecord(opts.root, config.settings.rwMount, 'boot', record);
    } catch (err) {
      log.warn(`boot: cannot write the boot record: ${(err as Error).message}`);
    }
  }
  if (exec.retry.length > 0 && opts.background) startBackgroundRetry(opts, log);
  log.close();
  return { ok: !exec.fatal, record };
}

function merge(into: Execution, from: Execution) {
  into.results.push(...from.results);
  into.retry.push(...from.retry);
  into.fatal ||= from.fatal;
}

// The paths in $STATE_MOUNT/files, bound from the state over their place.
export async function mountStateFiles(round: Round, ctx: ExecContext, exec: Execution, plan: Plan) {
  const s = round.config.settings;
  if (!ctx.mounted.has(s.stateMount)) return;
  const text = readText(ctx.root, `${s.stateMount}/files`, []);
  if (text === null) {
    ctx.log.info(`state-files: no ${s.stateMount}/files, nothing to bind`);
    return;
  }
  const paths: Facts['paths'] = { ...round.facts.paths };
  for (const p of stateFilesPaths(text)) paths[p] = pathFact(ctx.root, p);
  const files = planStateFiles(round.config, { ...round.facts, paths }, text);
  for (const e of files.configErrors) ctx.log.warn(`config: ${e}`);
  for (const n of files.notes) ctx.log.info(`plan: ${n}`);
  plan.notes.push(...files.notes);
  plan.configErrors.push(...files.configErrors);
  merge(exec, await execute(files.steps, ctx));
}

// NFS did not answer within its bound: boot goes on, and a detached
// `roroot mount-persistent` keeps trying. It survives the exec of the real
// init (it is our child, and init inherits its parentage).
function startBackgroundRetry(opts: BootOptions, log: Logger) {
  const args = [process.argv[1], 'mount-persistent', '--root', opts.root];
  if (opts.kmsg) args.push('--kmsg', opts.kmsg);
  if (opts.cmdline !== null) args.push('--cmdline', opts.cmdline);
  try {
    // Its lines go to the kernel log; the console belongs to getty by then.
    const child = spawn(process.execPath, args, { detached: true, stdio: 'ignore' });
    child.on('error', (err) => log.error(`boot: NFS retry: ${err.message}`));
    child.unref();
    log.info(`boot: NFS retry running in the background (pid ${child.pid})`);
  } catch (err) {
    log.error(`boot: cannot start the NFS retry: ${(err as Error).message}, continuing`);
  }
}
