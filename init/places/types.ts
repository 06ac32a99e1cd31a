import type { Config } from '../config/config';
import type { RwtabMode } from '../config/rwtab';
import type { Facts } from '../plan/facts';
import type { Step } from '../plan/steps';

// A writable place: a path on the read-only root that must be writable,
// and how. Every kind is one file with what boot does for it (plan), how to
// tell that it is in place (check: what `roroot status` reports, so plan
// and status can never disagree) and what takes it away again (undo:
// what `roroot uninstall` does). A new kind is a new file, a line in Place
// here and one in KINDS (place.ts).

export type Place =
  | { kind: 'volatile'; path: string } // VOLATILE: a symlink into the scratch (seed 004)
  | { kind: 'rwtab'; mode: RwtabMode; path: string; where: string } // rwtab: a copy on the scratch bound over it (seed 000)
  | { kind: 'overlay'; path: string } // OVERLAY: overlayfs, the root below, the scratch above
  | { kind: 'state-file'; path: string; where: string } // the state's files list: bound from the persistent state
  | { kind: 'persistent'; path: string } // PERSISTENT: a symlink into the REMOTE mount (seed 004)
  | { kind: 'identity'; path: string }; // the router's identity, kept on the state (places/identity.ts)

export type PlaceKindName = Place['kind'];
export type Of<K extends PlaceKindName> = Extract<Place, { kind: K }>;

export interface PlaceEnv {
  config: Config;
  facts: Facts;
}

// What boot does for the places of one kind (in config order: an rwtab
// entry hidden by one bound before it is skipped, as rc.sysinit does).
export interface PlacePlan {
  steps: Step[];
  notes: string[];
  warnings: string[]; // each a degraded reason
  configErrors: string[];
}

export interface PlaceCheck {
  kind: PlaceKindName;
  path: string;
  how: string; // "volatile symlink", "rwtab dirs", "overlay"
  state: 'in place' | 'skipped' | 'fallback' | 'missing' | 'refused';
  ok: boolean; // in place, or rightly not there (a path rwtab names that does not exist)
  detail: string;
}

// Undoing a place on the root: a link kind's directory back from its
// master copy; a mount kind leaves nothing on the root to undo.
export type Undo = { op: 'restore'; link: string; copy: string; created: boolean };

export interface PlaceKind<K extends PlaceKindName> {
  plan(places: Of<K>[], env: PlaceEnv): PlacePlan;
  check(places: Of<K>[], env: PlaceEnv): PlaceCheck[];
  undo(place: Of<K>, env: PlaceEnv, created: boolean): Undo[];
}

export function emptyPlan(): PlacePlan {
  return { steps: [], notes: [], warnings: [], configErrors: [] };
}
