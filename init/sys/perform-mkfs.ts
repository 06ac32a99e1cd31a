import { readFileSync, statSync } from 'node:fs';
import type { StepOf } from '../plan/steps';
import type { Outcome } from './execute';
import { majorMinor } from './probe';
import { hostPath } from './root-path';
import { runChecked } from './spawn';

// mkfs of the device the plan chose, and only that one: right before it
// runs, the name must still lead to the device of that number and size (a
// stick pulled and another plugged in since the probe gets the same name).
export async function performMkfs(step: StepOf<'mkfs'>, ctx: { root: string }): Promise<Outcome> {
  const d = step.device;
  const rdev = statSync(hostPath(ctx.root, d.path)).rdev;
  const size = Number(readFileSync(`/sys/dev/block/${majorMinor(rdev)}/size`, 'utf8')) * 512;
  if (majorMinor(rdev) !== d.number || size !== d.sizeBytes) {
    throw new Error(`${d.path} is now device ${majorMinor(rdev)} of ${size} bytes, not the ${d.number} of ${d.sizeBytes} bytes planned: not formatted`);
  }
  await runChecked(step.argv[0], step.argv.slice(1), { timeoutSec: step.timeoutSec });
  return 'ok';
}
