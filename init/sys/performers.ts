import { copyFileSync, constants, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { StepOf } from '../plan/steps';
import type { ExecContext, Outcome, Performers } from './execute';
import { performBind, performBindBatch } from './perform-bind';
import { performIdentity } from './perform-identity';
import { performMkfs } from './perform-mkfs';
import { performCommand, performMount, performUmount } from './perform-mount';
import { performSymlink } from './perform-symlink';
import { CommandError } from './spawn';
import { mkdirsWithin, UnsafeCopyError } from './tree-copy';

// Every step kind's performer but depmod's, which opens a read-write
// window (rw/modules-dep.ts) and is given by the command that needs it.

async function performMkdir(step: StepOf<'mkdir'>, ctx: ExecContext): Promise<Outcome> {
  if (!ctx.mounted.has(step.within)) throw new UnsafeCopyError(`${step.within} is not mounted`);
  const missing = step.rels.filter((r) => !existsSync(step.base + r));
  for (const rel of missing) mkdirsWithin(step.base, rel, () => '');
  return missing.length > 0 ? 'ok' : 'already';
}

// A new router's directory on the server. mkdir is atomic there: a second
// boot racing for the same name finds it made, and uses it.
async function performEnrol(step: StepOf<'enrol'>, ctx: ExecContext): Promise<Outcome> {
  try {
    mkdirSync(step.dir, { mode: 0o755 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new CommandError(`mkdir ${step.dir}`, (err as Error).message);
  }
  let copied = false;
  if (existsSync(step.template)) {
    try {
      copyFileSync(step.template, `${step.dir}/files`, constants.COPYFILE_EXCL);
      copied = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  ctx.log.info(`${step.phase}: enrolled ${step.name}: created ${step.server}/${step.name}${copied ? `, files list from ${step.server}/files` : existsSync(step.template) ? '' : ` (no ${step.server}/files template)`}`);
  return 'ok';
}

async function performHostname(step: StepOf<'hostname'>): Promise<Outcome> {
  if (readFileSync(step.file, 'utf8').trim() === step.name) return 'already';
  writeFileSync(step.file, step.name);
  return 'ok';
}

export const SYSTEM_PERFORMERS: Omit<Performers, 'depmod'> = {
  mount: performMount,
  nfs: performMount,
  remount: performCommand,
  fill: performCommand,
  umount: performUmount,
  mkfs: performMkfs,
  bind: performBind,
  'bind-batch': performBindBatch,
  symlink: performSymlink,
  mkdir: performMkdir,
  enrol: performEnrol,
  hostname: performHostname,
  identity: performIdentity,
};
