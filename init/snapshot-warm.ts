import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFlags } from './cli/args';
import { BOOT_FLAGS } from './main';
import { identityPlaces } from './places/identity';
import { KINDS } from './places/place';
import { bindFstab } from './plan/bind-batch';
import { describe } from './plan/describe';
import { planBoot } from './plan/plan';
import { wantedPaths } from './plan/wanted';
import { probeBlockDevices } from './sys/block-devices';
import { Logger } from './sys/log';
import { localFacts } from './sys/probe';
import { readConfig } from './sys/read-config';
import { copyTree } from './sys/tree-copy';

// V8 compiles a function when it is first called, and a startup snapshot
// keeps the bytecode of what ran while it was built: loading the modules
// (snapshot.ts) compiles their top levels only, and at boot readConfig, the
// probes and the planner each compiled themselves first. So the build asks
// the system it is built in what a boot asks it and plans that boot,
// read-only: files, /proc and /sys read, no device opened (block devices
// through a root without /dev: at an image's build /dev is the build
// machine's), no name looked up, nothing run. Then it copies a tree of its
// own as the rwtab and volatile places do, in a temporary directory it
// removes: the first copy of a boot ran ~2.5 ms slower than the next ones.
// What it learns is dropped; only the compiled code stays. Natively, the
// rwtab boot's config, probes and plan took 6.1 ms instead of 10.5, the
// whole boot 96.6 ms instead of 100.2 (race of 21, 2026-12-03). A warm-up
// that fails leaves that code to compile at boot.
const NO_DEVICES = '/nonexistent-roroot-warm-up';

function warmCopies() {
  const dir = mkdtempSync(join(tmpdir(), 'roroot-warm-'));
  try {
    mkdirSync(join(dir, 'src/sub/inner'), { recursive: true });
    writeFileSync(join(dir, 'src/sub/file'), 'warm\n');
    symlinkSync('sub/file', join(dir, 'src/link'));
    copyTree(join(dir, 'src'), join(dir, 'all'), 'all');
    copyTree(join(dir, 'src'), join(dir, 'all'), 'all'); // over the first: what a restore finds
    copyTree(join(dir, 'src'), join(dir, 'dirs'), 'dirs');
    copyTree(join(dir, 'src'), join(dir, 'node'), 'node');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// What a boot runs of minimist's code and node's own, compiled here too: a
// command line parsed, an error from a system call (a file that is not
// there). Profiled in the QEMU guest (TCG, `roroot plan`), the command line
// took 72 ms, warmed 48 (its regular expressions are compiled again at run
// time). Never a timer, though its first setTimeout cost 93 ms there: one
// set and cleared here left node's timer list sure that a native timer was
// due at the build's clock plus its delay (lib/internal/timers.js,
// nextExpiry), and in a process started from the snapshot no timer due
// later than that was ever armed: with its NFS server down, a boot waited
// for BOOT_DEADLINE (image.vm.test.ts, 2026-12-03).
function warmNode() {
  parseFlags(['--kmsg', 'none', '--no-background'], BOOT_FLAGS);
  try {
    readFileSync(NO_DEVICES);
  } catch {
    // ENOENT, as it should
  }
}

export async function warmForBoot(): Promise<void> {
  try {
    warmNode();
    const config = readConfig('/', null);
    const facts = { ...localFacts('/', wantedPaths(config)), blockDevices: await probeBlockDevices(NO_DEVICES, false, []) };
    const log = new Logger(() => {}, null);
    for (const plan of [planBoot(config, facts), KINDS.identity.plan(identityPlaces(), { config, facts })]) {
      for (const step of plan.steps) {
        log.info(describe(step));
        if (step.kind === 'bind-batch') bindFstab(step.members);
      }
    }
    warmCopies();
  } catch {
    // compiled at boot instead
  }
}
