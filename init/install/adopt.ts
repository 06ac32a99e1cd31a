import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Settings } from '../config/settings';
import { isUnder } from '../config/system-path';
import { hostPath } from '../sys/root-path';
import { copyTree, lstatOrNull, mkdirsWithin } from '../sys/tree-copy';
import { install } from './install';
import { readManifest } from './manifest';

// After `roroot rw -- apt-get install PKG`: what the package put where it
// does not survive a reboot goes into the master copy, so that the next
// boot's scratch has it.
//  - a new directory matching a volatile glob (/var/spool/cron for
//    /var/spool/*) is converted exactly as `roroot install` does it: moved
//    into the master copy and linked, and copied onto the live scratch;
//  - directories created in the scratch through a volatile link (mkdir
//    /var/log/nginx in a postinst) are made in the master copy, with their
//    owners and modes: daemons expect them to exist;
//  - files a package installed there (dpkg's .list of a package changed in
//    the window) are copied too. Anything else written there meanwhile is
//    runtime data (logs) and stays volatile.

const DPKG_INFO = '/var/lib/dpkg/info';

// Every directory under the volatile places, as the scratch holds them now.
export function volatileDirs(root: string, s: Settings): Set<string> {
  const out = new Set<string>();
  const walk = (path: string) => {
    out.add(path);
    let names: string[];
    try {
      names = readdirSync(hostPath(root, s.rwMount + path));
    } catch {
      return;
    }
    for (const name of names) {
      if (lstatOrNull(hostPath(root, `${s.rwMount}${path}/${name}`))?.isDirectory()) walk(`${path}/${name}`);
    }
  };
  for (const v of s.volatile) walk(v);
  return out;
}

export async function adoptVolatile(root: string, s: Settings, dirsBefore: Set<string>, sinceMs: number, say: (line: string) => void): Promise<number> {
  const scratch = (p: string) => hostPath(root, s.rwMount + p);
  const master = (p: string) => hostPath(root, s.rwMaster + p);
  let adopted = 0;

  const globs = readManifest(root)?.volatileGlobs ?? [];
  if (globs.length > 0) {
    for (const c of await install({ root, volatile: [...s.volatile, ...globs], say })) {
      if (c.master !== s.rwMaster) continue;
      mkdirsWithin(hostPath(root, s.rwMount), dirname(c.path), (p) => master(p));
      copyTree(master(c.path), scratch(c.path), 'all');
      adopted++;
    }
  }

  const newDirs = [...volatileDirs(root, s)].filter((d) => !dirsBefore.has(d)).sort();
  const owned = packageFilesSince(root, sinceMs).filter((p) => s.volatile.some((v) => isUnder(p, v)));
  for (const path of [...newDirs, ...owned]) {
    const from = lstatOrNull(scratch(path));
    if (!from || (from.isDirectory() && lstatOrNull(master(path)))) continue;
    mkdirsWithin(hostPath(root, s.rwMaster), dirname(path), scratch);
    copyTree(scratch(path), master(path), 'node');
    say(`rw: ${path} kept in the master copy ${s.rwMaster}`);
    adopted++;
  }
  return adopted;
}

// Paths listed by the packages whose file list dpkg rewrote since then.
function packageFilesSince(root: string, sinceMs: number): string[] {
  const out: string[] = [];
  let names: string[];
  try {
    names = readdirSync(hostPath(root, DPKG_INFO));
  } catch {
    return out;
  }
  for (const name of names.filter((n) => n.endsWith('.list'))) {
    const file = hostPath(root, `${DPKG_INFO}/${name}`);
    if (statSync(file).mtimeMs < sinceMs) continue;
    out.push(...readFileSync(file, 'utf8').split('\n').filter((l) => l.startsWith('/')));
  }
  return out;
}
