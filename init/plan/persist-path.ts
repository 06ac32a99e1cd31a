import type { Settings } from '../config/settings';
import { checkSystemPath, isUnder, normalizeSystemPath } from '../config/system-path';
import { mountAt, type Facts } from './facts';
import { storeRefusal } from './store-policy';

// Which paths `roroot persist add` takes: a place on the root itself, that
// the state's bind can cover for good. Not through a symlink (the bind
// would land where the link points, and the link could change), not in
// the kernel's filesystems, not on the scratch (made again at every boot:
// persist the place, not a copy of it), not a mount point (something else
// owns it), and nothing the router's store policy denies. A file that does
// not exist yet is taken where an app could make it: in an OVERLAY
// directory (on the read-only root nothing can; on the scratch it would not
// last); the bind is there before the app first writes it. `facts.paths`
// must hold the path and each of its parents.
export function persistRefusal(s: Settings, facts: Facts, raw: string): string | null {
  const bad = checkSystemPath(raw);
  if (bad) return bad;
  const path = normalizeSystemPath(raw);
  for (const k of ['/proc', '/sys', '/dev']) if (isUnder(path, k)) return `${path} is under ${k}, the kernel's`;
  const denied = storeRefusal(s, path, path);
  if (denied && !isUnder(path, s.rwMount) && !isUnder(path, s.stateMount)) return `refused by the router's policy: ${denied}`;
  const parts = path.split('/').filter(Boolean);
  for (let i = 1; i <= parts.length; i++) {
    const p = '/' + parts.slice(0, i).join('/');
    const fact = facts.paths[p];
    if (fact?.kind === 'symlink') return `${path} goes through the symlink ${p} -> ${fact.link}`;
    if (!fact || fact.kind === 'missing') {
      if (i < parts.length) return `${p} does not exist`;
      if (!inOverlay(facts, path)) return `${path} does not exist, and nothing can make it on the read-only root (persist its directory, or make that an OVERLAY)`;
    }
  }
  if (isUnder(path, s.rwMount)) return `${path} is on the scratch space, made again at every boot`;
  const m = mountAt(facts, path);
  if (m) return `${path} is a mount point (${m.fstype} from ${m.source})`;
  return denied ? `refused by the router's policy: ${denied}` : null;
}

// The paths whose facts persistRefusal needs.
export function persistPaths(raw: string): string[] {
  const parts = normalizeSystemPath(raw).split('/').filter(Boolean);
  return parts.map((_, i) => '/' + parts.slice(0, i + 1).join('/'));
}

// A path under an overlay mount: writable, its writes on the scratch.
export function inOverlay(facts: Facts, path: string): boolean {
  return facts.mounts.some((m) => m.fstype === 'overlay' && m.target !== path && isUnder(path, m.target));
}
