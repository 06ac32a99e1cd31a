import type { Config } from '../config/config';
import { identityKind, identityPlaces } from './identity';
import { overlayKind } from './overlay';
import { persistentKind } from './persistent';
import { rwtabKind } from './rwtab';
import { stateFileKind } from './state-file';
import type { Of, Place, PlaceCheck, PlaceEnv, PlaceKind, PlaceKindName, PlacePlan, Undo } from './types';
import { volatileKind } from './volatile';

// Every kind of writable place (types.ts says what a kind is).
export const KINDS: { [K in PlaceKindName]: PlaceKind<K> } = {
  volatile: volatileKind,
  rwtab: rwtabKind,
  overlay: overlayKind,
  identity: identityKind,
  'state-file': stateFileKind,
  persistent: persistentKind,
};

// The places a config names, in boot order, and the identity every router
// keeps. The state's files list is read from the store once it is mounted
// (stateFiles).
export function placesOf(config: Config, stateFiles: Of<'state-file'>[] = []): Place[] {
  const s = config.settings;
  return [
    ...s.volatile.map((path): Place => ({ kind: 'volatile', path })),
    ...config.rwtab.map((e): Place => ({ kind: 'rwtab', mode: e.mode, path: e.path, where: `${e.file}:${e.line}` })),
    ...s.overlay.map((path): Place => ({ kind: 'overlay', path })),
    ...identityPlaces(),
    ...stateFiles,
    ...s.persistent.map((path): Place => ({ kind: 'persistent', path })),
  ];
}

export function ofKind<K extends PlaceKindName>(places: Place[], kind: K): Of<K>[] {
  return places.filter((p): p is Of<K> => p.kind === kind);
}

// The plan of each kind for its places, in KINDS order.
export function planPlaces(places: Place[], env: PlaceEnv): PlacePlan[] {
  return kindsOf(places).map((kind) => (KINDS[kind] as PlaceKind<typeof kind>).plan(ofKind(places, kind) as never, env));
}

export function undoPlace(place: Place, env: PlaceEnv, created: boolean): Undo[] {
  return (KINDS[place.kind] as PlaceKind<typeof place.kind>).undo(place as never, env, created);
}

function kindsOf(places: Place[]): PlaceKindName[] {
  return (Object.keys(KINDS) as PlaceKindName[]).filter((k) => places.some((p) => p.kind === k));
}

export function checkAll(places: Place[], env: PlaceEnv): PlaceCheck[] {
  const out: PlaceCheck[] = [];
  for (const kind of Object.keys(KINDS) as PlaceKindName[]) {
    const mine = ofKind(places, kind);
    if (mine.length > 0) out.push(...(KINDS[kind] as PlaceKind<typeof kind>).check(mine as never, env));
  }
  return out;
}
