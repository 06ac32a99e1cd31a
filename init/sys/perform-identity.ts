import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { StepOf } from '../plan/steps';
import { fsyncDir, writeAtomically } from './atomic';
import { kernelRandom } from './kernel-random';
import type { ExecContext, Outcome } from './execute';
import { runChecked } from './spawn';
import { copyTree, UnsafeCopyError } from './tree-copy';

// An identity item made on its store when the store lacks it. Written
// beside, fsynced and renamed, the directory fsynced: a cut never leaves
// half a machine id, and the next boot finds the whole one or makes it.

// systemd's own form (sd_id128_randomize): 128 random bits as a version 4
// UUID, 32 lower-case hex digits.
function machineId(): Buffer {
  const b = kernelRandom(16);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  return Buffer.from(`${b.toString('hex')}\n`);
}

export async function performIdentity(step: StepOf<'identity'>, ctx: ExecContext): Promise<Outcome> {
  if (!ctx.mounted.has(step.within)) throw new UnsafeCopyError(`${step.within} is not mounted`);
  let made = false;
  if (!existsSync(step.copy)) {
    made = true;
    if (step.item === 'machine-id') writeAtomically(step.copy, machineId(), 0o444);
    else if (step.item === 'random-seed') writeAtomically(step.copy, kernelRandom(512), 0o600);
    else if (step.seed) {
      mkdirSync(dirname(step.copy), { recursive: true, mode: 0o755 });
      copyTree(step.seed, step.copy, 'all');
    } else mkdirSync(step.copy, { recursive: true, mode: 0o755 });
  }
  // Each key only when it is missing: a key is the router's for good. The
  // keys side by side: each is its own file and its own process, and one
  // boot spent ~50 ms (natively; 0.5 s under TCG) making two in a row.
  const missing = step.argv.filter((argv) => {
    const key = argv[argv.indexOf('-f') + 1];
    return argv.includes('-A') || !existsSync(step.copy + key.slice(key.lastIndexOf('/')));
  });
  const runs = await Promise.allSettled(missing.map((argv) => runChecked(argv[0], argv.slice(1), { timeoutSec: 120 })));
  if (missing.length > 0) made = true;
  // Whatever was made is kept for good, even when another key failed.
  if (made) fsyncDir(dirname(step.copy));
  const failed = runs.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return made ? 'ok' : 'already';
}
