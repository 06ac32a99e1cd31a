import { existsSync, mkdirSync } from 'node:fs';
import type { StepOf } from '../plan/steps';
import type { ExecContext, Outcome } from './execute';
import { runChecked } from './spawn';

// Mounts, NFS mounts (bounded by NFS_TIMEOUT: a server that does not answer
// must not hold up the boot), umounts and the remount of /: the planned argv,
// run as it stands. A target mounted already is left alone (boot run twice).

export async function performMount(step: StepOf<'mount'> | StepOf<'nfs'>, ctx: ExecContext): Promise<Outcome> {
  if (ctx.mounted.has(step.target)) return 'already';
  if (step.mkdir && !existsSync(step.mkdir)) mkdirSync(step.mkdir, { recursive: true, mode: 0o755 });
  await runChecked(step.argv[0], step.argv.slice(1), { timeoutSec: step.timeoutSec });
  ctx.mounted.add(step.target);
  return 'ok';
}

export async function performCommand(step: StepOf<'remount'> | StepOf<'fill'>): Promise<Outcome> {
  await runChecked(step.argv[0], step.argv.slice(1), { timeoutSec: step.timeoutSec });
  return 'ok';
}

export async function performUmount(step: StepOf<'umount'>, ctx: ExecContext): Promise<Outcome> {
  await runChecked(step.argv[0], step.argv.slice(1), { timeoutSec: step.timeoutSec });
  ctx.mounted.delete(step.target);
  return 'ok';
}
