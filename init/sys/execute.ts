import { describe } from '../plan/describe';
import type { Bind, Phase, Step, StepKind, StepOf } from '../plan/steps';
import { formatMs, type Logger } from './log';
import { CommandError } from './spawn';

// The thin part: runs planned steps in order through a table of
// performers, one per step kind (wired by the command that runs a plan:
// boot gives it the depmod performer, say), times and logs each step and
// applies what the plan declared: `needs`, `fallback` (when `fallbackWhen`
// matches the error), `fatal`, and NFS mounts to retry later. It decides
// nothing else.

export type Status = 'ok' | 'already' | 'skipped' | 'failed';

export interface StepResult {
  id: string;
  phase: Phase;
  kind: StepKind;
  command: string;
  status: Status;
  atMs: number; // when it started: ms since this process did (the boot stage's own clock), for a timeline of steps side by side
  ms: number;
  error?: string;
  fallbackFor?: string;
}

export interface Execution {
  results: StepResult[];
  fatal: boolean; // a fatal step failed: stopped there
  retry: Step[]; // NFS mounts that did not answer, for the background retry
}

export interface ExecContext {
  root: string;
  log: Logger;
  mounted: Set<string>; // system paths mounted now, kept current as steps mount
}

// What a performer reports: done, found done already, or for a batch the
// outcome of each member.
export type Outcome = 'ok' | 'already' | { members: { step: Bind; status: 'ok' | 'already' | 'failed'; error?: string }[] };
export type Performer<K extends StepKind> = (step: StepOf<K>, ctx: ExecContext) => Promise<Outcome>;
export type Performers = { [K in StepKind]: Performer<K> };

// `earlier`: the results of the rounds already run (boot runs a plan in
// rounds), for the `needs` of a step whose dependency ran in one of them.
export async function execute(steps: Step[], ctx: ExecContext, performers: Performers, earlier: readonly StepResult[] = []): Promise<Execution> {
  const out: Execution = { results: [], fatal: false, retry: [] };
  await runAll(steps, ctx, performers, out, undefined, earlier);
  return out;
}

async function runAll(steps: Step[], ctx: ExecContext, performers: Performers, out: Execution, fallbackFor: string | undefined, earlier: readonly StepResult[]): Promise<boolean> {
  for (const step of steps) if (!(await runOne(step, ctx, performers, out, fallbackFor, earlier))) return false;
  return true;
}

const since = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;

const tenths = (ms: number) => Math.round(ms * 10) / 10;

// The steps' clock: ms since this process started, to 0.1 ms.
export const uptimeMs = () => tenths(process.uptime() * 1000);

// The error as the log says it after the command: a command's own words,
// or the system call's message with its path.
export function errorText(err: unknown): string {
  if (err instanceof CommandError) return err.detail;
  return err instanceof Error ? err.message : String(err);
}

// false: a fatal step failed and nothing after it may run.
async function runOne(step: Step, ctx: ExecContext, performers: Performers, out: Execution, fallbackFor: string | undefined, earlier: readonly StepResult[]): Promise<boolean> {
  const command = describe(step);
  const atMs = uptimeMs();
  const record = (id: string, phase: Phase, kind: StepKind, cmd: string, status: Status, ms: number, error?: string, from = atMs) =>
    out.results.push({ id, phase, kind, command: cmd, status, atMs: from, ms, ...(error ? { error } : {}), ...(fallbackFor ? { fallbackFor } : {}) });

  // `needs`: the last result of that id, in this round or an earlier one.
  const unmet = (s: Step) => {
    if (!s.needs) return false;
    const needed = [...earlier, ...out.results].filter((r) => r.id === s.needs).pop();
    return !needed || (needed.status !== 'ok' && needed.status !== 'already');
  };
  const skip = (s: Step) => {
    const said = describe(s);
    ctx.log.info(`${s.phase}: ${said}: skipped, ${s.needs} did not succeed`);
    record(s.id, s.phase, s.kind, said, 'skipped', 0);
  };
  if (unmet(step)) {
    skip(step);
    return true;
  }
  // A batch's members each have their own `needs` (the identity's binds
  // need their items made): the batch mounts the others.
  let run = step;
  if (step.kind === 'bind-batch') {
    const members = step.members.filter((m) => !unmet(m));
    for (const m of step.members) if (!members.includes(m)) skip(m);
    if (members.length === 0) return true;
    run = { ...step, members };
  }
  const start = process.hrtime.bigint();
  try {
    const outcome = await (performers[run.kind] as Performer<StepKind>)(run as never, ctx);
    const ms = since(start);
    if (typeof outcome === 'object') {
      // A batch: each member on its own line and in the record, its time
      // its share of the batch.
      const share = ms / Math.max(outcome.members.length, 1);
      for (const [i, m] of outcome.members.entries()) {
        const said = describe(m.step);
        if (m.status === 'failed') ctx.log.error(`${m.step.phase}: ${said}: ${m.error}, continuing (${formatMs(share)} ms)`);
        else ctx.log.info(`${m.step.phase}: ${said}${m.status === 'already' ? ': already done' : ''} (${formatMs(share)} ms)`);
        record(m.step.id, m.step.phase, m.step.kind, said, m.status, share, m.error, tenths(atMs + i * share));
      }
      ctx.log.info(`${step.phase}: ${command}: ${outcome.members.length} binds in one mount (${formatMs(ms)} ms)`);
      return true;
    }
    ctx.log.info(`${step.phase}: ${command}${outcome === 'already' ? ': already done' : ''} (${formatMs(ms)} ms)`);
    record(step.id, step.phase, step.kind, command, outcome, ms);
    return true;
  } catch (err) {
    const ms = since(start);
    const reason = errorText(err);
    const fallback = step.fallback && (!step.fallbackWhen || new RegExp(step.fallbackWhen).test(reason)) ? step.fallback : null;
    // An NFS mount that has nothing else to fall back on is retried later.
    const retries = step.kind === 'nfs' && step.retry && !fallback;
    const then = step.fatal && !fallback ? 'giving up' : retries ? 'continuing, retrying in the background' : 'continuing';
    ctx.log.error(`${step.phase}: ${command}: ${reason}, ${then} (${formatMs(ms)} ms)`);
    record(step.id, step.phase, step.kind, command, 'failed', ms, reason);
    if (retries) out.retry.push(step);
    if (fallback) return runAll(fallback, ctx, performers, out, step.id, earlier);
    if (step.fatal) out.fatal = true;
    return !step.fatal;
  }
}
