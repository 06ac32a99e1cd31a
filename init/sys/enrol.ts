import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Enrol } from '../plan/steps';
import type { Logger } from './log';
import { CommandError, runChecked } from './spawn';

// The first boot of a new router of a fleet: $CLIENTSTATE/$HOSTNAME does
// not exist on the server yet. The seed's rc.sysinit then simply had no
// state; every router would need an admin to mkdir its directory first. We
// mount the parent export for a moment, create the directory with the
// fleet's `files` template, and leave. mkdir is atomic on the server, so
// two boots racing for one name both end up with the same directory.

// mount.nfs: "mounting srv:/x/y failed, reason given by server: No such file or directory"
export function isMissingOnServer(err: unknown): boolean {
  return err instanceof CommandError && /No such file or directory/.test(err.message);
}

export interface EnrolContext {
  hostPath: (systemPath: string) => string; // a system path as this machine sees it
  options: string[];
  timeoutSec: number;
  log: Logger;
  phase: string;
}

export async function enrol(e: Enrol, ctx: EnrolContext): Promise<void> {
  const via = ctx.hostPath(e.via);
  mkdirSync(via, { recursive: true });
  await runChecked('mount', ['-n', '-t', 'nfs', ...(ctx.options.length > 0 ? ['-o', ctx.options.join(',')] : []), e.parent, via], { timeoutSec: ctx.timeoutSec });
  try {
    const dir = join(via, e.name);
    try {
      mkdirSync(dir, { mode: 0o755 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new CommandError(`mkdir ${e.parent}/${e.name}: ${(err as NodeJS.ErrnoException).code}`);
    }
    const template = join(via, 'files');
    const copied = existsSync(template) && !existsSync(join(dir, 'files'));
    if (copied) copyFileSync(template, join(dir, 'files'));
    ctx.log.info(`${ctx.phase}: enrolled ${e.name}: created ${e.parent}/${e.name}${copied ? `, files list from ${e.parent}/files` : ` (no ${e.parent}/files template)`}`);
  } finally {
    await runChecked('umount', ['-n', via]);
  }
}
