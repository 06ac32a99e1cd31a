import { childProcess } from './sys/child';
import type { Config } from './config/config';
import { formatDiagnostic } from './config/diagnostic';
import { parseStateList } from './config/state-list';
import type { Facts } from './plan/facts';
import type { ModulesFact } from './plan/modules-dep';
import { IDENTITY, identityMakers, identityPlaces } from './places/identity';
import { KINDS } from './places/place';
import { activation, isFirstStep, planBoot, planStateFiles } from './plan/plan';
import type { Plan } from './plan/steps';
import { writeRecord, type BootRecord, type Reason } from './record';
import { performDepmod } from './rw/modules-dep';
import { execute, uptimeMs, type ExecContext, type Execution, type Performers } from './sys/execute';
import { formatMs, Logger } from './sys/log';
import { probeModules } from './sys/modules-probe';
import { pathFact, probe, probeOverlay, readMounts } from './sys/probe';
import { readConfig } from './sys/read-config';
import { readStateList } from './sys/read-state-list';
import { SYSTEM_PERFORMERS } from './sys/performers';
import { trialAtBoot } from './upgrade/trial';
import { VERSION } from './version';

// config -> probe -> plan -> execute, in rounds: the kernel filesystems come
// first because the command line and the devices can only be read after
// them, and the state files list only once the state is mounted.

export const PERFORMERS: Performers = { ...SYSTEM_PERFORMERS, depmod: performDepmod };

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
  const facts: Facts = { ...probed, modules: fact, overlay: config.settings.overlay.length > 0 ? probeOverlay(root, fact?.exists ? fact.dir : null) : null };
  return { config, facts, plan: planBoot(config, facts) };
}

export async function boot(opts: BootOptions): Promise<{ ok: boolean; record: BootRecord }> {
  const started = new Date();
  const t0 = process.hrtime.bigint();
  const atMs = uptimeMs();
  const log = new Logger(opts.console, opts.kmsg);
  const exec: Execution = { results: [], fatal: false, retry: [] };
  let round = await planRound(opts.root, opts.cmdline, opts.release);
  const ctx: ExecContext = { root: opts.root, log, mounted: new Set(round.facts.mounts.map((m) => m.target)) };

  const pseudo = round.plan.steps.filter((s) => s.phase === 'pseudo');
  if (pseudo.length > 0) {
    merge(exec, await execute(pseudo, ctx, PERFORMERS));
    log.openKmsg();
    round = await planRound(opts.root, opts.cmdline, opts.release, round.facts.modules);
  }
  const { config, plan } = round;
  // A slot on trial checks itself before anything else (upgrade/trial.ts).
  const trial = await trialAtBoot(opts.root, config, log).catch((err: Error) => `upgrade: the trial check failed: ${err.message}`);
  if (trial) plan.warnings.push(trial);
  if (process.execArgv.includes('--snapshot-blob')) log.info(`boot: roroot ${VERSION}, started from its startup snapshot`);
  log.info(`boot: ${plan.active ? 'on' : 'off'} (${plan.reason})${plan.active || plan.steps.length > 0 ? '' : ', handing over'}`);
  sayPlan(plan, log);
  if (round.facts.modules?.exists && plan.active && !plan.steps.some((s) => s.kind === 'depmod')) log.info(`modules: ${round.facts.modules.dir}/modules.dep is current, no window`);

  if (!exec.fatal) {
    // What the rest stands on first: the root made writable (roroot off on
    // a converted system: a bind of the master copy made while / is still
    // read-only would stay read-only) and the scratch; then the local steps
    // and the NFS mounts side by side (plan.networkAfter): before the
    // scratch when they stand on nothing the local steps make; after the
    // scratch when they use a path on it (CLIENTSTATE's enrolment mounts
    // there); after the local steps when they stand on what those put in
    // place (a persistent link under an rwtab bind).
    const rest = plan.steps.filter((s) => s.phase !== 'pseudo');
    const network = rest.filter((s) => !isFirstStep(s) && s.lane === 'network');
    let networkRun = plan.active && plan.networkAfter === 'plan' ? execute(network, ctx, PERFORMERS, exec.results) : null;
    merge(exec, await execute(rest.filter(isFirstStep), ctx, PERFORMERS));
    if (!exec.fatal) {
      if (plan.networkAfter !== 'local') networkRun ??= execute(network, ctx, PERFORMERS, exec.results);
      // The identity waits only for what it stands on (plan.identityAfter):
      // with its store mounted already, its keys are made beside the local
      // steps, and everything is bound after them.
      const making = execute(plan.active && plan.identityAfter === 'scratch' ? identityMakers(planIdentity(round, ctx).steps) : [], ctx, PERFORMERS);
      merge(exec, await execute(rest.filter((s) => !isFirstStep(s) && !s.lane), ctx, PERFORMERS, exec.results));
      networkRun ??= execute(network, ctx, PERFORMERS, exec.results);
      merge(exec, await making);
      const bindFirst = !exec.fatal && plan.active && plan.identityAfter !== 'network';
      if (bindFirst) await bindIdentity(round, ctx, exec, plan);
      merge(exec, await networkRun);
      if (!exec.fatal && plan.active) {
        if (!bindFirst) await bindIdentity(round, ctx, exec, plan);
        await bindStateFiles(round, ctx, exec, plan);
      }
    } else if (networkRun) merge(exec, await networkRun);
  }
  const totalMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const failed = exec.results.filter((r) => r.status === 'failed').length;
  const reasons = degradedReasons(plan, exec);
  if (reasons.length > 0) log.warn(`boot: DEGRADED (${reasons.length} reason${reasons.length > 1 ? 's' : ''}): roroot status says why`);
  log.info(`boot: done in ${formatMs(totalMs)} ms, ${exec.results.length} steps, ${failed} failed${exec.fatal ? ', NOTHING USABLE: no writable space' : ''}`);
  const record: BootRecord = {
    version: VERSION,
    started: started.toISOString(),
    active: plan.active,
    reason: plan.reason,
    totalMs,
    atMs,
    fatal: exec.fatal,
    steps: exec.results,
    notes: plan.notes,
    configErrors: plan.configErrors,
    warnings: plan.warnings,
    degraded: reasons.length > 0,
    reasons,
  };
  if (ctx.mounted.has(config.settings.rwMount)) {
    try {
      writeRecord(opts.root, config.settings.rwMount, 'boot', record);
    } catch (err) {
      log.warn(`boot: cannot write the boot record: ${(err as Error).message}`);
    }
  }
  // Not after a fatal boot: the network lane may have run (it starts
  // before the scratch), but nothing is there to persist into.
  if (exec.retry.length > 0 && opts.background && !exec.fatal) startBackgroundRetry(opts, log);
  log.close();
  return { ok: !exec.fatal, record };
}

// The plan's own findings, each at its level: a skipped config line or a
// fallback chosen up front is a warning (and a degraded reason), a decision
// that changes nothing an info note.
export function sayPlan(plan: Pick<Plan, 'configErrors' | 'warnings' | 'notes'>, log: Logger) {
  for (const e of plan.configErrors) log.warn(`config: ${e}`);
  for (const w of plan.warnings) log.warn(`plan: ${w}`);
  for (const n of plan.notes) log.info(`plan: ${n}`);
}

// One notion of degraded: every config line skipped, every warning of the
// plan (a fallback, a refused device or list entry, / read-write), every
// step that failed, every NFS mount left to the background retry.
export function degradedReasons(plan: Plan, exec: Execution): Reason[] {
  const reasons: Reason[] = [...plan.configErrors.map((t) => ({ text: `config: ${t}` })), ...plan.warnings.map((t) => ({ text: t }))];
  for (const r of exec.results) {
    if (r.status !== 'failed') continue;
    const retried = exec.retry.some((s) => s.id === r.id);
    reasons.push({ text: `${r.phase}: ${r.command}: ${r.error}${retried ? ' (retrying in the background)' : ''}`, ...(retried ? { step: r.id } : {}) });
  }
  return reasons;
}

function merge(into: Execution, from: Execution) {
  into.results.push(...from.results);
  into.retry.push(...from.retry);
  into.fatal ||= from.fatal;
}

// Once the state is mounted (or is not there): the router's identity, kept
// on it (or made for this boot on the scratch), and the paths its files
// list names, bound from it over their place.
export async function bindStores(round: Round, ctx: ExecContext, exec: Execution, plan: Plan) {
  await bindIdentity(round, ctx, exec, plan);
  await bindStateFiles(round, ctx, exec, plan);
}

// The identity's paths probed again: the first round saw them before the
// scratch was mounted, and one under a volatile link (/var/lib/systemd on
// the reference image) resolved to nothing then, so it was left unbound.
function planIdentity(round: Round, ctx: ExecContext) {
  const paths: Facts['paths'] = { ...round.facts.paths };
  for (const item of IDENTITY) for (const p of [item.path, item.when]) paths[p] = pathFact(ctx.root, p);
  const now = { ...round.facts, paths, mounts: readMounts(ctx.root) };
  return KINDS.identity.plan(identityPlaces(), { config: round.config, facts: now });
}

// Planned again after the local steps, which may have put an identity path
// in place; an item made already (beside them) is not made twice, and its
// bind needs that step.
async function bindIdentity(round: Round, ctx: ExecContext, exec: Execution, plan: Plan) {
  const identity = planIdentity(round, ctx);
  sayPlan(identity, ctx.log);
  plan.warnings.push(...identity.warnings);
  const made = new Set(exec.results.filter((r) => r.kind === 'identity').map((r) => r.id));
  merge(exec, await execute(identity.steps.filter((s) => !(s.kind === 'identity' && made.has(s.id))), ctx, PERFORMERS, exec.results));
}

async function bindStateFiles(round: Round, ctx: ExecContext, exec: Execution, plan: Plan) {
  const s = round.config.settings;
  if (!ctx.mounted.has(s.stateMount)) return;
  const file = `${s.stateMount}/files`;
  const read = readStateList(ctx.root, s.stateMount);
  if ('missing' in read) {
    ctx.log.info(`state-files: no ${file}, nothing to bind`);
    return;
  }
  if ('error' in read) {
    const text = `state-files: ${file} ${read.error}`;
    ctx.log.warn(text);
    plan.warnings.push(text);
    return;
  }
  const list = parseStateList(file, read.text);
  const errors = list.diagnostics.map(formatDiagnostic);
  // The state is mounted now, and what it holds is a fact of this round
  // (the state-file plan reads its entries' paths and the mounts).
  const paths: Facts['paths'] = { ...round.facts.paths };
  for (const e of list.entries) paths[e.path] = pathFact(ctx.root, e.path);
  const files = planStateFiles(round.config, { ...round.facts, paths, mounts: readMounts(ctx.root) }, list.entries, file);
  files.configErrors.push(...errors);
  sayPlan(files, ctx.log);
  plan.notes.push(...files.notes);
  plan.configErrors.push(...files.configErrors);
  plan.warnings.push(...files.warnings);
  merge(exec, await execute(files.steps, ctx, PERFORMERS));
}

// NFS did not answer within its bound: boot goes on, and a detached
// `roroot mount-persistent` keeps trying. It survives the exec of the real
// init (it is our child, and init inherits its parentage). It says each
// attempt in the kernel log only, below the console's level: the console
// belongs to getty by then; it says on the console when the state changes.
function startBackgroundRetry(opts: BootOptions, log: Logger) {
  // Started as it was itself: from the snapshot, or from the bundle.
  const self = process.execArgv.includes('--snapshot-blob') ? [...process.execArgv, '--'] : [process.argv[1]];
  const args = [...self, 'mount-persistent', '--root', opts.root, '--quiet'];
  if (opts.kmsg) args.push('--kmsg', opts.kmsg);
  if (opts.cmdline !== null) args.push('--cmdline', opts.cmdline);
  try {
    const child = childProcess().spawn(process.execPath, args, { detached: true, stdio: 'ignore' });
    child.on('error', (err) => log.error(`boot: NFS retry: ${err.message}`));
    child.unref();
    log.info(`boot: NFS retry running in the background (pid ${child.pid})`);
  } catch (err) {
    log.error(`boot: cannot start the NFS retry: ${(err as Error).message}, continuing`);
  }
}
