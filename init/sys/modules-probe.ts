import { statSync } from 'node:fs';
import { INPUTS, type ModulesFact } from '../plan/modules-dep';
import { hostPath, resolveInRoot } from './root-path';
import { runChecked } from './spawn';

// Modules, as Debian's kernels ship them (compressed or not).
const MODULE_NAMES = ['*.ko', '*.ko.xz', '*.ko.zst', '*.ko.gz'];

// One find(1), stopping at the first input newer than modules.dep. This was
// a walk in node, a stat per module (~4000 on a Debian kernel): in the QEMU
// guest `roroot plan` took 5.1-5.7 s against 2.7 s for `roroot --version`,
// and the walk's statSync/readdirSync and their Stats and Date objects were
// the largest part of its CPU profile. find does the stats in C. It
// compares to the nanosecond, as the planner did to the millisecond.
// build/ and source/ are symlinks into the kernel headers: not followed.
export async function probeModules(root: string, release: string): Promise<ModulesFact> {
  const named = `/lib/modules/${release}`;
  const dir = resolveInRoot(root, named) ?? named;
  const host = hostPath(root, dir);
  const fact: ModulesFact = { release, dir, exists: false, dep: null, newer: null, error: null };
  if (!statSync(host, { throwIfNoEntry: false })?.isDirectory()) return fact;
  fact.exists = true;
  const dep = statSync(`${host}/modules.dep`, { throwIfNoEntry: false });
  if (!dep) return fact;
  fact.dep = { size: dep.size };
  const names = [...MODULE_NAMES.flatMap((n) => ['-name', n, '-o']), ...INPUTS.flatMap((n) => ['-path', `${host}/${n}`, '-o'])].slice(0, -1);
  // An empty modules.dep is stale if there is any input at all.
  const newer = dep.size > 0 ? ['-newer', `${host}/modules.dep`] : [];
  const args = [host, '-type', 'f', '(', ...names, ')', ...newer, '-print', '-quit'];
  try {
    const first = (await runChecked('find', args, { timeoutSec: 30 })).stdout.split('\n')[0];
    if (first) fact.newer = `${dir}${first.slice(host.length)}`;
  } catch (err) {
    fact.error = `find ${host} -newer modules.dep: ${(err as Error).message}`;
  }
  return fact;
}

