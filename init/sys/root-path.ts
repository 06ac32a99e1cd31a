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

// The system path with every symlink resolved inside root, or null when a
// component is missing (a dangling link counts as missing, as `[ -e ]` says).
export function resolveInRoot(root: string, systemPath: string): string | null {
  const r = resolve(root, systemPath);
  return r && r.missing.length === 0 ? r.resolved : null;
}

// As far as it exists, resolved inside root; the missing rest appended as
// it is: where `mkdir -p` of the path inside root lands. Null on a link loop.
export function resolveLenient(root: string, systemPath: string): string | null {
  const r = resolve(root, systemPath);
  return r ? '/' + [...r.resolved.split('/').filter(Boolean), ...r.missing].join('/') : null;
}

function resolve(root: string, systemPath: string): { resolved: string; missing: string[] } | null {
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
    // Not there: no exception for ENOENT (its stack trace costs more than
    // the lstat, and the probes ask about dozens of paths at every boot).
    let st: Stats | undefined;
    try {
      st = lstatSync(hostPath(root, candidate), { throwIfNoEntry: false });
    } catch {
      st = undefined; // ENOTDIR and the like: not there either
    }
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
export function lstatPathInRoot(root: string, systemPath: string): string | null {
  const slash = systemPath.lastIndexOf('/');
  const parent = resolveInRoot(root, systemPath.slice(0, slash) || '/');
  if (parent === null) return null;
  const base = systemPath.slice(slash + 1);
  return hostPath(root, parent === '/' ? `/${base}` : `${parent}/${base}`);
}
