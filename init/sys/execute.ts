import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { describe } from '../plan/describe';
import { bindBatch, mountAll, type Bind } from './bind-batch';
import { enrol, isMissingOnServer } from './enrol';
import type { Phase, Step, StepKind } from '../plan/steps';
import { regenerateModulesDep } from '../rw/modules-dep';
import { formatMs, type Logger } from './log';
import { hostPath, resolveInRoot } from './root-path';
import { CommandError, runChecked } from './spawn';
import { copyTree, mkdirsWithin, UnsafeCopyError } from './tree-copy';

// The thin part: runs planned steps in order, times and logs each one, and
// applies fallbacks. Every step is safe to run twice: a mount whose target
// is already mounted and a symlink that already points right are left alone.

export type Status = 'ok' | 'already' | 'skipped' | 'failed';

export interface StepResult {
  id: string;
  phase: Phase;
  kind: StepKind;
  command: string;
  status: Status;
  ms: number;
  error?: string;
  fallbackFor?: string;
}

export interface Execution {
  results: StepResult[];
  fatal: boolean; // a fatal step failed: stopped there
  retry: Step[]; // NFS mounts that did not answer, for the background retry
}

export interface ExecContext {
  root: string;
  log: Logger;
  mounted: Set<string>; // system paths mounted now, kept current as we mount
}

export async function execute(steps: Step[], ctx: ExecContext): Promise<Execution> {
  const out: Execution = { results: [], fatal: false, retry: [] };
  await runAll(steps, ctx, out, undefined);
  return out;
}

async function runAll(steps: Step[], ctx: ExecContext, out: Execution, fallbackFor: string | undefined): Promise<boolean> {
  for (let i = 0; i < steps.length; i++) {
    const batch = bindBatch(steps, i);
    if (batch.length > 1) {
      await runBinds(batch, ctx, out, fallbackFor);
      i += batch.length - 1;
    } else if (!(await runOne(steps[i], ctx, out, fallbackFor))) return false;
  }
  return true;
}

const since = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;

function recordOf(out: Execution, step: Step, fallbackFor: string | undefined) {
  return (status: Status, ms: number, error?: string) =>
    out.results.push({ id: step.id, phase: step.phase, kind: step.kind, command: describe(step), status, ms, ...(error ? { error } : {}), ...(fallbackFor ? { fallbackFor } : {}) });
}

// Binds of a batch (bind-batch.ts): each one's copy first, then one mount
// for all. Every step is still logged and recorded on its own, its time
// being its copy plus its share of the one mount.
async function runBinds(batch: Bind[], ctx: ExecContext, out: Execution, fallbackFor: string | undefined) {
  const copied: { step: Bind; ms: number }[] = [];
  for (const step of batch) {
    const record = recordOf(out, step, fallbackFor);
    const start = process.hrtime.bigint();
    if (ctx.mounted.has(step.target)) {
      ctx.log.info(`${step.phase}: ${describe(step)}: already done (0 ms)`);
      record('already', 0);
      continue;
    }
    try {
      replicate(step, ctx);
      copied.push({ step, ms: since(start) });
    } catch (err) {
      const ms = since(start);
      ctx.log.error(`${step.phase}: ${describe(step)}: ${errorText(err)}, continuing (${formatMs(ms)} ms)`);
      record('failed', ms, errorText(err));
    }
  }
  if (copied.length === 0) return;
  const start = process.hrtime.bigint();
  const first = copied[0].step;
  const scratch = bindBase(first);
  const failed = await mountAll(
    copied.map(({ step }) => ({ target: step.target, hostSource: host(ctx, step.source), hostTarget: host(ctx, step.target), options: step.options })),
    host(ctx, `${scratch}/.roroot`),
    ctx.root,
  );
  const mountMs = since(start);
  for (const { step, ms } of copied) {
    const total = ms + mountMs / copied.length;
    const error = failed.get(step.target);
    if (error) ctx.log.error(`${step.phase}: ${describe(step)}: ${error}, continuing (${formatMs(total)} ms)`);
    else {
      ctx.log.info(`${step.phase}: ${describe(step)} (${formatMs(total)} ms)`);
      ctx.mounted.add(step.target);
    }
    recordOf(out, step, fallbackFor)(error ? 'failed' : 'ok', total, error);
  }
  ctx.log.info(`${first.phase}: mount -n -a -T ${scratch}/.roroot/binds.fstab: ${copied.length} binds in one mount (${formatMs(mountMs)} ms)`);
}

// false: a fatal step failed and nothing after it may run.
async function runOne(step: Step, ctx: ExecContext, out: Execution, fallbackFor: string | undefined): Promise<boolean> {
  const command = describe(step);
  const record = recordOf(out, step, fallbackFor);

  if (step.needs) {
    const needed = out.results.filter((r) => r.id === step.needs).pop();
    if (!needed || (needed.status !== 'ok' && needed.status !== 'already')) {
      ctx.log.info(`${step.phase}: ${command}: skipped, ${step.needs} did not succeed`);
      record('skipped', 0);
      return true;
    }
  }
  const start = process.hrtime.bigint();
  try {
    const status = await perform(step, ctx);
    const ms = since(start);
    ctx.log.info(`${step.phase}: ${command}${status === 'already' ? ': already done' : ''} (${formatMs(ms)} ms)`);
    record(status, ms);
    return true;
  } catch (err) {
    const ms = since(start);
    const reason = errorText(err);
    // An NFS mount that has nothing else to fall back on is retried later.
    const retries = step.kind === 'nfs' && step.retry && !step.fallback;
    const then = step.fatal && !step.fallback ? 'giving up' : retries ? 'continuing, retrying in the background' : 'continuing';
    ctx.log.error(`${step.phase}: ${command}: ${reason}, ${then} (${formatMs(ms)} ms)`);
    record('failed', ms, reason);
    if (retries) out.retry.push(step);
    if (step.fallback) return runAll(step.fallback, ctx, out, step.id);
    if (step.fatal) out.fatal = true;
    return !step.fatal;
  }
}

function errorText(err: unknown): string {
  if (err instanceof CommandError || err instanceof UnsafeCopyError) return err.message;
  const e = err as NodeJS.ErrnoException;
  return e.code ?? e.message ?? String(err);
}

// A target as this machine sees it: symlinks resolved inside the root, so
// that a mount under --root never lands outside the tree.
function host(ctx: ExecContext, systemPath: string): string {
  if (ctx.root === '/') return systemPath;
  return hostPath(ctx.root, resolveInRoot(ctx.root, systemPath) ?? systemPath);
}

function deviceOrName(ctx: ExecContext, source: string): string {
  return source.startsWith('/') ? host(ctx, source) : source;
}

async function perform(step: Step, ctx: ExecContext): Promise<'ok' | 'already'> {
  switch (step.kind) {
    case 'mount':
    case 'nfs': {
      if (ctx.mounted.has(step.target)) return 'already';
      const target = host(ctx, step.target);
      if (!existsSync(target)) mkdirSync(target, { recursive: true });
      const fstype = step.kind === 'nfs' ? 'nfs' : step.fstype;
      const args = ['-n', ...(fstype ? ['-t', fstype] : [])];
      if (step.options.length > 0) args.push('-o', step.options.join(','));
      args.push(step.kind === 'mount' ? deviceOrName(ctx, step.source) : step.source, target);
      if (step.kind === 'mount') await runChecked('mount', args);
      else {
        try {
          await runChecked('mount', args, { timeoutSec: step.timeoutSec });
        } catch (err) {
          if (!step.enrol || !isMissingOnServer(err)) throw err;
          await enrol(step.enrol, { hostPath: (p) => host(ctx, p), options: step.options, timeoutSec: step.timeoutSec, log: ctx.log, phase: step.phase });
          await runChecked('mount', args, { timeoutSec: step.timeoutSec });
        }
      }
      ctx.mounted.add(step.target);
      return 'ok';
    }
    case 'mkfs': {
      const args = ['-q', '-F', '-m', '0', '-E', 'nodiscard'];
      // A journal protects nothing on a filesystem re-made at every boot;
      // without one, mkfs and every write to scratch cost less.
      if (step.fstype === 'ext4') args.push('-O', '^has_journal');
      if (step.label) args.push('-L', step.label);
      if (step.uuid) args.push('-U', step.uuid);
      if (step.populate) args.push('-d', host(ctx, step.populate));
      args.push(deviceOrName(ctx, step.device));
      await runChecked(`mkfs.${step.fstype}`, args);
      return 'ok';
    }
    case 'fill':
      await runChecked('cp', ['-a', `${host(ctx, step.from)}/.`, host(ctx, step.to)]);
      return 'ok';
    case 'bind': {
      if (ctx.mounted.has(step.target)) return 'already';
      replicate(step, ctx);
      const args = ['-n', '--bind', ...(step.options.length > 0 ? ['-o', step.options.join(',')] : [])];
      await runChecked('mount', [...args, host(ctx, step.source), host(ctx, step.target)]);
      ctx.mounted.add(step.target);
      return 'ok';
    }
    case 'symlink':
      return ensureSymlink(step, ctx);
    case 'depmod':
      await regenerateModulesDep(step, ctx.root, ctx.log);
      return 'ok';
    case 'hostname':
      if (readHostname(ctx) === step.name) return 'already';
      writeFileSync(hostPath(ctx.root, '/proc/sys/kernel/hostname'), step.name);
      return 'ok';
  }
}

function readHostname(ctx: ExecContext): string {
  try {
    return readFileSync(hostPath(ctx.root, '/proc/sys/kernel/hostname'), 'utf8').trim();
  } catch {
    return '';
  }
}

// The mount a bind's source lies in: its source is that mount + its target.
function bindBase(step: Bind): string {
  return step.source.slice(0, step.source.length - step.target.length);
}

// Recreate the bind target on the source side (rwtab's empty/dirs/files;
// 'missing' copies only what the source lacks). Parent directories take the
// root's modes and owners; nothing is written through a symlink.
function replicate(step: Bind, ctx: ExecContext) {
  if (!step.replicate) return;
  const within = bindBase(step);
  const base = hostPath(ctx.root, within);
  if (!ctx.mounted.has(within)) throw new UnsafeCopyError(`${within} is not mounted`);
  if (step.replicate === 'missing' && existsSync(base + step.target)) return;
  mkdirsWithin(base, dirname(step.target), (rel) => hostPath(ctx.root, rel));
  const depth = step.replicate === 'empty' ? 'node' : step.replicate === 'dirs' ? 'dirs' : 'all';
  copyTree(hostPath(ctx.root, step.target), base + step.target, depth);
}

function ensureSymlink(step: Extract<Step, { kind: 'symlink' }>, ctx: ExecContext): 'ok' | 'already' {
  let changed = false;
  if (step.ensureDir) {
    if (!ctx.mounted.has(step.within)) throw new UnsafeCopyError(`${step.within} is not mounted`);
    const base = hostPath(ctx.root, step.within);
    const rel = step.target.slice(step.within.length);
    const model = (r: string) => hostPath(ctx.root, r);
    changed = !existsSync(base + rel);
    const seed = step.seed ? hostPath(ctx.root, step.seed + step.path) : null;
    if (changed && seed && existsSync(seed)) {
      mkdirsWithin(base, dirname(rel), model);
      copyTree(seed, base + rel, 'all');
    } else mkdirsWithin(base, rel, model);
  }
  const path = hostPath(ctx.root, step.path);
  let st: Stats | null = null;
  try {
    st = lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (st && !st.isSymbolicLink()) throw new UnsafeCopyError(`${step.path} is a ${st.isDirectory() ? 'directory' : 'file'}, not a symlink (roroot install converts it)`);
  const current = st ? readlinkSync(path) : null;
  if (current === step.target) return changed ? 'ok' : 'already';
  if (current !== null) throw new UnsafeCopyError(`${step.path} points to ${current}, not ${step.target}`);
  symlinkSync(step.target, path);
  return 'ok';
}
