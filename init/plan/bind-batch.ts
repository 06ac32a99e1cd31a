import { isUnder } from '../config/system-path';
import { TIMEOUT_SEC } from './argv';
import type { Bind, Step } from './steps';

// Many bind mounts in one process. Fedora's rwtab is ~45 binds; one
// `mount --bind` each cost ~6 ms of spawn and libmount start-up, 270 ms of
// a boot whose peer (rc.sysinit) takes ~200 ms in all. util-linux mounts
// every line of an fstab it is given with `mount -a -T FILE` in one process,
// so a run of binds becomes one planned step: each member's copy, then the
// one mount of the members whose copy worked.

// Runs of binds of one phase that can be mounted together, each replaced
// by one bind-batch step: no member is fatal, has a fallback to run
// instead, needs another member (the executor skips a member whose `needs`
// failed before the batch), or lies under another's target (its copy must
// see that bind first). rwtab's binds, and since 2026-12 the identity's
// (its four mount processes were ~0.7 s of a TCG boot, one 0.3 s): the
// fstab is written on the scratch, never on the state an identity bind
// comes from. The state files list's binds still run one by one. `file`:
// where the fstab goes, as this machine sees it.
const BATCHED_PHASES: ReadonlySet<Step['phase']> = new Set(['rwtab', 'identity']);

export function batchBinds(steps: Step[], file: string): Step[] {
  const out: Step[] = [];
  for (let i = 0; i < steps.length; ) {
    const batch: Bind[] = [];
    for (let j = i; j < steps.length; j++) {
      const s = steps[j];
      if (s.kind !== 'bind' || !BATCHED_PHASES.has(s.phase) || s.fallback || s.fatal) break;
      if (batch.length > 0 && s.phase !== batch[0].phase) break;
      if (batch.some((b) => b.id === s.needs || isUnder(s.target, b.target) || isUnder(b.target, s.target))) break;
      batch.push(s);
    }
    if (batch.length > 1) {
      out.push({
        id: `${batch[0].phase}.batch:${batch[0].target}`,
        phase: batch[0].phase,
        kind: 'bind-batch',
        file,
        members: batch,
        argv: ['mount', '-n', '-a', '-T', file],
        timeoutSec: TIMEOUT_SEC.mount,
        fatal: false,
        why: `${batch.length} binds in one mount`,
      });
      i += batch.length;
    } else out.push(steps[i++]);
  }
  return out;
}

// fstab(5) escapes: a space, tab, newline or backslash inside a field.
function field(path: string): string {
  return path.replace(/[\\ \t\n]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

// The fstab of a batch, one line per bind, from each bind's own argv
// (mount -n --bind [-o OPTS] SOURCE TARGET): what runs is what was planned.
export function bindFstab(binds: Bind[]): string {
  return binds
    .map((b) => {
      const [source, target] = b.argv.slice(-2);
      const o = b.argv.indexOf('-o');
      const options = o > 0 ? b.argv[o + 1].split(',') : [];
      return `${field(source)} ${field(target)} none ${['bind', ...options].join(',')} 0 0\n`;
    })
    .join('');
}
