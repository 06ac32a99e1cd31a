import type { Facts, PathFact } from '../plan/facts';
import { hostOf, linkHostOf } from '../plan/facts';
import type { Phase, Step } from '../plan/steps';
import type { PlaceCheck, PlaceEnv, PlaceKindName, Undo } from './types';

// Seed 004's way to make a directory writable: it moves into a master copy
// on the root and a symlink into a mount takes its place (`ln -s
// /var/lib/roroot/volatile/X/Y/Z /X/Y/Z`). Shared by the volatile kind (into
// the scratch) and the persistent kind (into the REMOTE mount).

export interface LinkInto {
  kind: PlaceKindName;
  phase: Phase;
  mount: string; // the mount the link points into
  master: string; // where the directory's content lives on the root
  seed: string | null; // the first content of a new target inside the mount
  needs?: string; // the mount's step, when it may fail
  how: string; // as status names it
}

// Boot: the link exists (install made it); its target directory is made
// inside the mount, never through a symlink found there.
export function linkStep(facts: Facts, path: string, o: LinkInto): Step {
  return {
    id: `${o.phase}:${path}`,
    phase: o.phase,
    kind: 'symlink',
    path,
    link: linkHostOf(facts, path),
    target: o.mount + path,
    ensure: { within: o.mount, base: hostOf(facts, o.mount), rel: path, root: facts.root, seed: o.seed ? hostOf(facts, o.seed) + path : null },
    fatal: false,
    ...(o.needs ? { needs: o.needs } : {}),
    why: o.phase === 'volatile' ? 'VOLATILE' : 'PERSISTENT',
  };
}

export function checkLink(env: PlaceEnv, path: string, o: LinkInto): PlaceCheck {
  const target = o.mount + path;
  const fact: PathFact | undefined = env.facts.paths[path];
  const base = { kind: o.kind, path, how: o.how };
  if (!fact || fact.kind !== 'symlink') return { ...base, state: 'missing', ok: false, detail: `is a ${fact?.kind ?? 'missing'}, not a symlink (roroot install converts it)` };
  if (fact.link !== target) return { ...base, state: 'missing', ok: false, detail: `points to ${fact.link}` };
  if (fact.follows !== 'dir') return { ...base, state: 'missing', ok: false, detail: `${target} is missing` };
  return { ...base, state: 'in place', ok: true, detail: `-> ${target}` };
}

// roroot install: what to do with a path that should become such a link.
export type Conversion =
  | { kind: 'move'; path: string } // a directory: into the master copy, then the link
  | { kind: 'create'; path: string } // missing: an empty directory in the master copy, then the link
  | { kind: 'already'; path: string } // the link is there and right
  | { kind: 'skip'; path: string; why: string };

export function conversion(path: string, fact: PathFact, mount: string): Conversion {
  const target = mount + path;
  if (fact.kind === 'symlink') {
    return fact.link === target ? { kind: 'already', path } : { kind: 'skip', path, why: `already a symlink to ${fact.link}` };
  }
  if (fact.kind === 'missing') return { kind: 'create', path };
  if (fact.kind !== 'dir') return { kind: 'skip', path, why: `is a ${fact.kind}, not a directory` };
  return { kind: 'move', path };
}

// roroot uninstall: the link goes, the directory comes back from the
// master copy (or goes, if install created it).
export function undoLink(facts: Facts, path: string, o: LinkInto, created: boolean): Undo[] {
  return [{ op: 'restore', link: linkHostOf(facts, path), copy: hostOf(facts, o.master) + path, created }];
}
