import { existsSync, lstatSync, readlinkSync, symlinkSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import type { StepOf } from '../plan/steps';
import type { ExecContext, Outcome } from './execute';
import { hostPath } from './root-path';
import { copyTree, mkdirsWithin, UnsafeCopyError } from './tree-copy';

// A place that is a symlink into a mount (seed 004): its target directory
// made inside that mount (from the seed copy, when the mount is new to
// it), then the link itself, which `roroot install` made once and is only
// checked here: a directory or another link in its place is an error, not
// something boot replaces.
export async function performSymlink(step: StepOf<'symlink'>, ctx: ExecContext): Promise<Outcome> {
  let changed = false;
  const e = step.ensure;
  if (e) {
    if (!ctx.mounted.has(e.within)) throw new UnsafeCopyError(`${e.within} is not mounted`);
    const model = (r: string) => hostPath(e.root, r);
    changed = !existsSync(e.base + e.rel);
    if (changed && e.seed && existsSync(e.seed)) {
      mkdirsWithin(e.base, dirname(e.rel), model);
      copyTree(e.seed, e.base + e.rel, 'all');
    } else mkdirsWithin(e.base, e.rel, model);
  }
  let st: Stats | null = null;
  try {
    st = lstatSync(step.link);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (st && !st.isSymbolicLink()) throw new UnsafeCopyError(`${step.path} is a ${st.isDirectory() ? 'directory' : 'file'}, not a symlink (roroot install converts it)`);
  const current = st ? readlinkSync(step.link) : null;
  if (current === step.target) return changed ? 'ok' : 'already';
  if (current !== null) throw new UnsafeCopyError(`${step.path} points to ${current}, not ${step.target}`);
  symlinkSync(step.target, step.link);
  return 'ok';
}
