import { isUnder } from '../config/system-path';
import { TIMEOUT_SEC } from './argv';
import type { Bind, Step } from './steps';

// Many bind mounts in one process. Fedora's rwtab is ~45 binds; one
// `mount --bind` each cost ~6 ms of spawn and libmount start-up, 270 ms of
// a boot whose peer (rc.sysinit) takes ~200 ms in all. util-linux mounts
// every line of an fstab it is given with `mount -a -T FILE` in one process,
// so a run of binds becomes one planned step: each member's copy, then the
// one mount of the members whose copy worked.

// Runs of rwtab binds that can be mounted together, each replaced by one
// bind-batch step: no member waits for another's result, has a fallback to
// run instead, or lies under another's target (its copy must see that bind
// first). Only rwtab's: their fstab is written on the scratch they bind
// from; the state's binds must not write on the state. `file`: where the
// fstab goes, as this machine sees it.
export function batchBinds(steps: Step[], file: string): Step[] {
  const out: Step[] = [];
  for (let i = 0; i < steps.length; ) {
    const batch: Bind[] = [];
    for (let j = i; j < steps.length; j++) {
      const s = steps[j];
      if (s.kind !== 'bind' || s.phase !== 'rwtab' || s.needs || s.fallback || s.fatal) break;
      if (batch.some((b) => isUnder(s.target, b.target) || isUnder(b.target, s.target))) break;
      batch.push(s);
    }
    if (batch.length > 1) {
      out.push({
        id: `rwtab.batch:${batch[0].target}`,
        phase: 'rwtab',
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
