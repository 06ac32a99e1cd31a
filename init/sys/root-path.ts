import { lstatSync, readlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';

// roroot acts on "the system whose root is --root DIR". Config and plans
// speak in system paths (/var/log); only here do they become paths on this
// machine. Symlinks inside the tree are resolved against the tree, as they
// would be on the router (an absolute link /var/run -> /run means DIR/run,
// never this machine's /run): a bind mount must not land outside the tree.

export function hostPath(root: string, systemPath: string): string {
  return root === '/' ? systemPath : join(root, systemPath);
}

const MAX_SYMLINKS = 40; // Linux's own limit (ELOOP)

// lstat of host paths, each asked once: one look at a tree that nothing
// changes meanwhile (a probe). Resolving each of the ~60 paths a boot
// probes from / asked lstat 466 times about 91 paths (the rwtab boot,
// 2026-12): they share their first components, /var, /var/lib, /etc.
export class StatCache {
  private readonly stats = new Map<string, Stats | null>();

  // Null when not there: no exception for ENOENT (its stack trace costs
  // more than the lstat); ENOTDIR and the like are not there either.
  lstat(host: string): Stats | null {
    let st = this.stats.get(host);
    if (st === undefined) {
      try {
        st = lstatSync(host, { throwIfNoEntry: false }) ?? null;
      } catch {
        st = null;
      }
      this.stats.set(host, st);
    }
    return st;
  }
}

// The system path with every symlink resolved inside root, or null when a
// component is missing (a dangling link counts as missing, as `[ -e ]` says).
export function resolveInRoot(root: string, systemPath: string, cache = new StatCache()): string | null {
  const r = resolve(root, systemPath, cache);
  return r && r.missing.length === 0 ? r.resolved : null;
}

// As far as it exists, resolved inside root; the missing rest appended as
// it is: where `mkdir -p` of the path inside root lands. Null on a link loop.
export function resolveLenient(root: string, systemPath: string, cache = new StatCache()): string | null {
  const r = resolve(root, systemPath, cache);
  return r ? '/' + [...r.resolved.split('/').filter(Boolean), ...r.missing].join('/') : null;
}

function resolve(root: string, systemPath: string, cache: StatCache): { resolved: string; missing: string[] } | null {
  let pending = systemPath.split('/').filter(Boolean);
  let resolved: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const name = pending.shift() as string;
    if (name === '.') continue;
    if (name === '..') {
      resolved.pop();
      continue;
    }
    const candidate = '/' + [...resolved, name].join('/');
    const st = cache.lstat(hostPath(root, candidate));
    if (!st) {
      const missing: string[] = [name];
      for (const rest of pending) {
        if (rest === '..') (missing.length > 0 ? missing : resolved).pop();
        else if (rest !== '.') missing.push(rest);
      }
      return { resolved: '/' + resolved.join('/'), missing };
    }
    if (!st.isSymbolicLink()) {
      resolved.push(name);
      continue;
    }
    if (++hops > MAX_SYMLINKS) return null;
    const link = readlinkSync(hostPath(root, candidate));
    if (link.startsWith('/')) resolved = [];
    pending = [...link.split('/').filter(Boolean), ...pending];
  }
  return { resolved: '/' + resolved.join('/'), missing: [] };
}

// The parent resolved inside root, the last component not followed: what
// lstat() of a system path means.
export function lstatPathInRoot(root: string, systemPath: string, cache = new StatCache()): string | null {
  const slash = systemPath.lastIndexOf('/');
  const parent = resolveInRoot(root, systemPath.slice(0, slash) || '/', cache);
  if (parent === null) return null;
  const base = systemPath.slice(slash + 1);
  return hostPath(root, parent === '/' ? `/${base}` : `${parent}/${base}`);
}
