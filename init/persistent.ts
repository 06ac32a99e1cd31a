import { bindStores, degradedReasons, PERFORMERS, planRound } from './boot';
import type { Phase } from './plan/steps';
import { writeRecord } from './record';
import { execute, uptimeMs } from './sys/execute';
import { formatMs, Logger } from './sys/log';
import { VERSION } from './version';

// `roroot mount-persistent`: the persistent half of boot (state, REMOTE and
// the links into it) on its own, retried with backoff until every NFS mount
// answers. Boot starts it in the background when NFS is down (--quiet: its
// attempts go to the kernel log below the console's level, and only the
// end of the outage is said on the console); an admin can run it by hand
// after fixing the server. Every round re-plans from fresh facts, and what
// is mounted already is left alone.

const PHASES: Phase[] = ['state', 'remote', 'persistent'];

export interface PersistentOptions {
  root: string;
  cmdline: string | null;
  kmsg: string | null;
  console: (line: string) => void;
  once: boolean;
  quiet: boolean;
  firstDelaySec: number;
  maxDelaySec: number;
}

export async function mountPersistent(opts: PersistentOptions): Promise<boolean> {
  let delay = opts.firstDelaySec;
  for (let attempt = 1; ; attempt++) {
    const log = new Logger(opts.console, opts.kmsg, opts.quiet);
    const t0 = process.hrtime.bigint();
    const atMs = uptimeMs();
    const round = await planRound(opts.root, opts.cmdline, null);
    const ctx = { root: opts.root, log, mounted: new Set(round.facts.mounts.map((m) => m.target)) };
    const exec = await execute(round.plan.steps.filter((s) => PHASES.includes(s.phase)), ctx, PERFORMERS);
    await bindStores(round, ctx, exec, round.plan);
    const pending = exec.retry.length > 0;
    const totalMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const outcome = `mount-persistent: attempt ${attempt} ${pending ? `failed, next in ${delay} s` : 'done'} (${formatMs(totalMs)} ms)`;
    if (!pending && opts.quiet) log.notice(`${outcome}: the persistent stores are mounted now`);
    else log.info(outcome);
    const rw = round.config.settings.rwMount;
    if (ctx.mounted.has(rw)) {
      const reasons = degradedReasons(round.plan, exec);
      writeRecord(opts.root, rw, 'persistent', {
        version: VERSION,
        started: new Date().toISOString(),
        active: round.plan.active,
        reason: `attempt ${attempt}`,
        totalMs,
        atMs,
        fatal: false,
        steps: exec.results,
        notes: round.plan.notes,
        configErrors: round.plan.configErrors,
        warnings: round.plan.warnings,
        degraded: reasons.length > 0,
        reasons,
      });
    }
    log.close();
    if (!pending || opts.once) return !pending;
    await new Promise((r) => setTimeout(r, delay * 1000));
    delay = Math.min(delay * 2, opts.maxDelaySec);
  }
}
