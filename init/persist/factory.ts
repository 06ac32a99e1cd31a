import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandLine } from '../plan/argv';
import { run, type RunResult } from '../sys/spawn';

// The factory content of a persisted path: what the read-only root holds
// under the bind. A bind of the root that is not recursive shows the root
// filesystem without what is mounted over it; made in a private mount
// namespace, it is gone with the command. `script` gets the factory root
// as $F, whose path comes back with the result.
export async function underneath(root: string, script: string): Promise<RunResult & { factory: string }> {
  const f = mkdtempSync(join(tmpdir(), 'roroot-factory-'));
  try {
    return { ...(await run('unshare', ['--mount', '--propagation', 'private', 'sh', '-euc', `mount --bind ${commandLine([root])} "$F"; ${script}`], { timeoutSec: 120, env: { F: f } })), factory: f };
  } finally {
    rmSync(f, { recursive: true, force: true });
  }
}

export interface Difference {
  path: string;
  kind: 'file' | 'dir' | 'missing';
  same: boolean;
  diff?: string; // unified, for a file
  added?: string[]; // for a directory: paths only the persisted copy has
  removed?: string[]; // only the factory has
  changed?: string[]; // both, with another content or type
}

// diff -rq's lines as added / removed / changed, paths relative to `path`.
export function readDiffRq(text: string, factory: string, persisted: string, path: string): Pick<Difference, 'added' | 'removed' | 'changed'> {
  const out = { added: [] as string[], removed: [] as string[], changed: [] as string[] };
  const rel = (p: string, base: string) => path + p.slice(base.length);
  for (const line of text.split('\n')) {
    const only = /^Only in (.+): (.+)$/.exec(line);
    if (only) {
      const [dir, name] = [only[1], only[2]];
      if (dir.startsWith(persisted)) out.added.push(`${rel(dir, persisted)}/${name}`);
      else if (dir.startsWith(factory)) out.removed.push(`${rel(dir, factory)}/${name}`);
      continue;
    }
    const differ = /^Files (.+) and (.+) differ$/.exec(line) ?? /^File (.+) is a .+ while file (.+) is a .+$/.exec(line);
    if (differ) out.changed.push(rel(differ[1], factory));
  }
  return out;
}
