import { closeSync, existsSync, lstatSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { bindFstab } from '../plan/bind-batch';
import type { Bind, StepOf } from '../plan/steps';
import type { ExecContext, Outcome } from './execute';
import { errorText } from './execute';
import { readMounts } from './probe';
import { hostPath } from './root-path';
import { runChecked } from './spawn';
import { copyTree, mkdirsWithin, UnsafeCopyError } from './tree-copy';

// Binds: the target recreated inside its store first (rwtab's empty, dirs,
// files; `missing`: only what the store lacks), then the planned mount.

// Parent directories take the root's modes and owners; nothing is written
// through a symlink.
function replicate(step: Bind, ctx: ExecContext) {
  if (!step.replicate) return;
  if (!ctx.mounted.has(step.within)) throw new UnsafeCopyError(`${step.within} is not mounted`);
  const copy = step.base + step.rel;
  if (step.replicate === 'missing' && existsSync(copy)) return;
  const model = (rel: string) => hostPath(step.root, rel);
  mkdirsWithin(step.base, dirname(step.rel), model);
  const depth = step.replicate === 'empty' ? 'node' : step.replicate === 'dirs' ? 'dirs' : 'all';
  const original = model(step.rel);
  copyTree(original, copy, depth, step.store ? { ...step.store, dev: lstatSync(original).dev } : null);
}

// A target the root lacks, on the scratch: made as what is bound onto it.
function makeMountPoint(step: Bind) {
  const target = step.argv[step.argv.length - 1];
  if (!step.mountPoint || existsSync(target)) return;
  const source = step.argv[step.argv.length - 2];
  if (step.mountPoint === 'dir' || (step.mountPoint === 'auto' && lstatSync(source).isDirectory())) mkdirSync(target, { recursive: true, mode: 0o755 });
  else {
    mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
    closeSync(openSync(target, 'a', 0o600));
  }
}

export async function performBind(step: Bind, ctx: ExecContext): Promise<Outcome> {
  if (ctx.mounted.has(step.target)) return 'already';
  replicate(step, ctx);
  makeMountPoint(step);
  await runChecked(step.argv[0], step.argv.slice(1), { timeoutSec: step.timeoutSec });
  ctx.mounted.add(step.target);
  return 'ok';
}

// Each member's copy and mount point, then one `mount -a -T FILE` for the
// members whose copy worked; which of them are mounted afterwards is read
// from the kernel, and mount's own line ("mount: TARGET: REASON.") says
// why not.
export async function performBindBatch(step: StepOf<'bind-batch'>, ctx: ExecContext): Promise<Outcome> {
  const members: Extract<Outcome, object>['members'] = [];
  const copied: Bind[] = [];
  for (const m of step.members) {
    if (ctx.mounted.has(m.target)) members.push({ step: m, status: 'already' });
    else {
      try {
        replicate(m, ctx);
        makeMountPoint(m);
        copied.push(m);
      } catch (err) {
        members.push({ step: m, status: 'failed', error: errorText(err) });
      }
    }
  }
  if (copied.length === 0) return { members };
  // A full or read-only scratch fails every member that was to be mounted,
  // each on its own line and in the record (a throw would record the batch
  // alone, and `roroot status` could not say which places are not bound).
  try {
    mkdirSync(dirname(step.file), { recursive: true, mode: 0o755 });
    writeFileSync(step.file, bindFstab(copied));
  } catch (err) {
    return { members: [...members, ...copied.map((m) => ({ step: m, status: 'failed' as const, error: `${step.file}: ${errorText(err)}` }))] };
  }
  const result = await runChecked(step.argv[0], step.argv.slice(1), { timeoutSec: step.timeoutSec }).catch((err: Error) => ({ stderr: err.message }));
  const said = new Map<string, string>();
  for (const line of result.stderr.split('\n')) {
    const m = /^mount: (.+?): (.*?)\.?$/.exec(line.trim());
    if (m) said.set(m[1], m[2]);
  }
  const mounted = new Set(readMounts(ctx.root).map((m) => m.target));
  for (const m of copied) {
    const target = m.argv[m.argv.length - 1];
    if (mounted.has(m.target)) {
      ctx.mounted.add(m.target);
      members.push({ step: m, status: 'ok' });
    } else members.push({ step: m, status: 'failed', error: said.get(target) ?? 'not mounted by mount -a' });
  }
  return { members };
}
