import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Config } from '../config/config';
import { isUnder } from '../config/system-path';
import { pathFact } from '../sys/probe';
import { hostPath, resolveInRoot } from '../sys/root-path';
import { copyTree, lstatOrNull, mkdirsWithin } from '../sys/tree-copy';
import { addVolatile } from './install';
import { readManifest } from './manifest';

// After `roroot rw -- apt-get install PKG`: what the package put where it
// does not survive a reboot goes into the master copy, so that the next
// boot's scratch has it. Only what is new since the window opened, and only
// what root or a package made: a directory any user made in /tmp meanwhile
// is that user's runtime data, and stays volatile.
//  - a new directory matching a volatile glob (/var/spool/cron for
//    /var/spool/*) becomes a volatile place: moved into the master copy
//    and linked, as `roroot install` converts one, and copied onto the live
//    scratch;
//  - directories created in the scratch through a volatile link (mkdir
//    /var/log/nginx in a postinst) are made in the master copy, with their
//    owners and modes: daemons expect them to exist;
//  - files a package installed there (dpkg's .list of a package changed in
//    the window) are copied too. Anything else written there meanwhile is
//    runtime data (logs) and stays volatile.

const DPKG_INFO = '/var/lib/dpkg/info';

// What the window starts from: every directory under the volatile places
// (as the scratch holds them) and under the volatile globs' parents on the
// root. Taken before the window opens.
export interface Before {
  scratchDirs: Set<string>;
  globDirs: Set<string>;
  sinceMs: number;
}

export function before(root: string, config: Config): Before {
  const s = config.settings;
  const scratchDirs = new Set<string>();
  const walk = (path: string) => {
    scratchDirs.add(path);
    for (const name of list(hostPath(root, s.rwMount + path))) {
      if (lstatOrNull(hostPath(root, `${s.rwMount}${path}/${name}`))?.isDirectory()) walk(`${path}/${name}`);
    }
  };
  for (const v of s.volatile) walk(v);
  return { scratchDirs, globDirs: new Set(globChildren(root)), sinceMs: Date.now() };
}

export async function adoptVolatile(root: string, config: Config, was: Before, say: (line: string) => void): Promise<number> {
  const s = config.settings;
  const scratch = (p: string) => hostPath(root, s.rwMount + p);
  const master = (p: string) => hostPath(root, s.rwMaster + p);
  const packaged = new Set(packageFilesSince(root, was.sinceMs));
  const ours = (systemPath: string, host: string) => packaged.has(systemPath) || lstatOrNull(host)?.uid === 0;
  let adopted = 0;

  const fresh = globChildren(root).filter((p) => !was.globDirs.has(p) && pathFact(root, p).kind === 'dir' && ours(p, hostPath(root, p)));
  for (const path of addVolatile(root, config, fresh, say)) {
    mkdirsWithin(hostPath(root, s.rwMount), dirname(path), master);
    copyTree(master(path), scratch(path), 'all');
    adopted++;
  }

  const now = new Set<string>();
  const walk = (path: string) => {
    now.add(path);
    for (const name of list(scratch(path))) if (lstatOrNull(scratch(`${path}/${name}`))?.isDirectory()) walk(`${path}/${name}`);
  };
  for (const v of s.volatile) walk(v);
  const newDirs = [...now].filter((d) => !was.scratchDirs.has(d)).sort();
  const owned = [...packaged].filter((p) => s.volatile.some((v) => isUnder(p, v)));
  for (const path of [...newDirs, ...owned]) {
    const from = lstatOrNull(scratch(path));
    if (!from || (from.isDirectory() && lstatOrNull(master(path))) || !ours(path, scratch(path))) continue;
    mkdirsWithin(hostPath(root, s.rwMaster), dirname(path), scratch);
    copyTree(scratch(path), master(path), 'node');
    say(`rw: ${path} kept in the master copy ${s.rwMaster}`);
    adopted++;
  }
  return adopted;
}

// The directories under the volatile globs' parents (/var/spool/* ->
// /var/spool/cron, ...), links included: the converted ones are links.
function globChildren(root: string): string[] {
  const out: string[] = [];
  for (const glob of readManifest(root)?.volatileGlobs ?? []) {
    const parent = glob.slice(0, -2);
    const resolved = resolveInRoot(root, parent);
    if (resolved) for (const name of list(hostPath(root, resolved))) out.push(`${parent}/${name}`);
  }
  return out;
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

// Paths listed by the packages whose file list dpkg rewrote since then.
function packageFilesSince(root: string, sinceMs: number): string[] {
  const out: string[] = [];
  for (const name of list(hostPath(root, DPKG_INFO)).filter((n) => n.endsWith('.list'))) {
    const file = hostPath(root, `${DPKG_INFO}/${name}`);
    if (statSync(file).mtimeMs < sinceMs) continue;
    out.push(...readFileSync(file, 'utf8').split('\n').filter((l) => l.startsWith('/')));
  }
  return out;
}
