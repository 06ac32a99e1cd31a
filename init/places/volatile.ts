import { isUnder } from '../config/system-path';
import { checkLink, linkStep, undoLink, type LinkInto } from './link-into';
import { emptyPlan, type PlaceEnv, type PlaceKind } from './types';

// VOLATILE: a symlink into the scratch, whose content comes from the
// master copy at every boot (seed 004).

export function volatileLink(env: PlaceEnv): LinkInto {
  const s = env.config.settings;
  return { kind: 'volatile', phase: 'volatile', mount: s.rwMount, master: s.rwMaster, seed: null, how: 'volatile symlink' };
}

// A link in place of / or of a directory holding a store or the master
// copy would move that store into the master copy.
function storeClash(env: PlaceEnv, path: string): string | null {
  const s = env.config.settings;
  if (path === '/') return 'is / itself';
  const store = [s.rwMount, s.rwMaster, s.stateMount, s.remoteMount, s.remoteMaster].find((m) => isUnder(m, path) || isUnder(path, m));
  return store ? `${isUnder(store, path) ? 'holds' : 'lies inside'} ${store}` : null;
}

export const volatileKind: PlaceKind<'volatile'> = {
  plan(places, env) {
    const out = emptyPlan();
    for (const { path } of places) {
      if (/[*?[]/.test(path)) out.warnings.push(`VOLATILE: ${path} is a pattern: roroot install expands it into the paths it links`);
      else {
        const store = storeClash(env, path);
        if (store) out.configErrors.push(`VOLATILE: ${path} ${store}: not linked`);
        else out.steps.push(linkStep(env.facts, path, volatileLink(env)));
      }
    }
    return out;
  },
  check: (places, env) => places.filter((p) => !/[*?[]/.test(p.path)).map((p) => checkLink(env, p.path, volatileLink(env))),
  undo: (place, env, created) => undoLink(env.facts, place.path, volatileLink(env), created),
};
