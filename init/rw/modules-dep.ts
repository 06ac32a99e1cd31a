import { closeSync, copyFileSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, utimesSync } from 'node:fs';
import { GENERATED, type ModulesFact } from '../plan/modules-dep';
import type { Step } from '../plan/steps';
import { formatMs, type Logger } from '../sys/log';
import { hostPath, resolveInRoot } from '../sys/root-path';
import { runChecked } from '../sys/spawn';
import { withRootWritable } from './window';

// modules.dep on a read-only root. depmod runs OUTSIDE the window, on the
// scratch, over a tree of symlinks to the real modules (bookworm's kmod 30
// has no --outdir); its output is byte-identical to an in-place run. The
// window then holds only: each changed file written beside its target,
// fsynced, renamed over it, and the directory fsynced. A cut leaves each
// file old or new, never torn; modules.dep goes last, so a cut before it
// leaves it older than the modules and the next boot runs again.

// What depmod reads besides the modules themselves (top level only).
const INPUTS = ['modules.order', 'modules.builtin', 'modules.builtin.modinfo'];
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
    const first = (await runChecked('find', args)).stdout.split('\n')[0];
    if (first) fact.newer = `${dir}${first.slice(host.length)}`;
  } catch (err) {
    fact.error = `find ${host} -newer modules.dep: ${(err as Error).message}`;
  }
  return fact;
}

export interface DepmodOutcome {
  changed: string[]; // files replaced in the window
  depmodMs: number; // outside the window
}

export async function regenerateModulesDep(step: Extract<Step, { kind: 'depmod' }>, root: string, log: Logger): Promise<DepmodOutcome> {
  log.info(`modules: modules.dep is stale: ${step.why}`);
  const real = hostPath(root, step.dir);
  const work = hostPath(root, step.work);
  const shadow = `${work}/lib/modules/${step.release}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(shadow, { recursive: true });
  for (const name of readdirSync(real)) {
    if (!GENERATED.test(name)) symlinkSync(`${real}/${name}`, `${shadow}/${name}`);
  }
  const t0 = process.hrtime.bigint();
  await runChecked('depmod', ['-b', work, step.release], { timeoutSec: 600 });
  const depmodMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const produced = readdirSync(shadow).filter((n) => GENERATED.test(n));
  const changed = produced.filter((n) => !sameContent(`${shadow}/${n}`, `${real}/${n}`));
  // modules.dep last: it is what says "current" to the next boot.
  changed.sort((a, b) => Number(a === 'modules.dep') - Number(b === 'modules.dep'));
  log.info(`modules: depmod -b ${step.work} ${step.release} (${formatMs(depmodMs)} ms, outside the window): ${changed.length} of ${produced.length} files differ`);

  await withRootWritable({ root, scratch: step.scratch, label: 'modules.dep', log }, async () => {
    for (const name of changed) replaceAtomically(`${shadow}/${name}`, `${real}/${name}`);
    // Same content (a module touched, not changed): only the time says
    // "current" now; one inode update.
    if (!changed.includes('modules.dep')) {
      const now = new Date();
      utimesSync(`${real}/modules.dep`, now, now);
    }
    fsyncPath(real);
  });
  rmSync(work, { recursive: true, force: true });
  return { changed, depmodMs };
}

function sameContent(a: string, b: string): boolean {
  try {
    return readFileSync(a).equals(readFileSync(b));
  } catch {
    return false;
  }
}

// write beside, fsync, rename over: the target is the old file or the new
// one at every instant. The directory is fsynced once by the caller.
function replaceAtomically(from: string, to: string) {
  const tmp = `${to}.roroot-new`;
  copyFileSync(from, tmp);
  fsyncPath(tmp);
  renameSync(tmp, to);
}

function fsyncPath(path: string) {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
