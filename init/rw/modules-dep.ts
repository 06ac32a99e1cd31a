import { closeSync, copyFileSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, utimesSync } from 'node:fs';
import { GENERATED } from '../plan/modules-dep';
import type { StepOf } from '../plan/steps';
import type { ExecContext, Outcome } from '../sys/execute';
import { formatMs } from '../sys/log';
import { hostPath } from '../sys/root-path';
import { runChecked } from '../sys/spawn';
import { withRootWritable } from './window';

// modules.dep on a read-only root. depmod runs OUTSIDE the window, on the
// scratch, over a tree of symlinks to the real modules (bookworm's kmod 30
// has no --outdir); its output is byte-identical to an in-place run. The
// window then holds only: each changed file written beside its target,
// fsynced, renamed over it, and the directory fsynced. A cut leaves each
// file old or new, never torn; modules.dep goes last, so a cut before it
// leaves it older than the modules and the next boot runs again.

// The depmod step's performer, for the executor's table (boot.ts).
export async function performDepmod(step: StepOf<'depmod'>, ctx: ExecContext): Promise<Outcome> {
  const { root, log } = ctx;
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
  await runChecked('depmod', ['-b', work, step.release], { timeoutSec: 300 });
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
  return 'ok';
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
