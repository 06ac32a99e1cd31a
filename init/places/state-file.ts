import { printable } from '../config/diagnostic';
import { mountArgv, TIMEOUT_SEC } from '../plan/argv';
import { hostOf, isMounted, mountAt } from '../plan/facts';
import { inOverlay } from '../plan/persist-path';
import { storeRefusal } from '../plan/store-policy';
import { emptyPlan, type Of, type PlaceCheck, type PlaceEnv, type PlaceKind } from './types';

// A path the persistent state's files list names (seed 000: `mount -n -o
// bind $STATE_MOUNT/${i} ${i}`), bound from the state over its place. A
// path the state lacks is first copied there from the root, so a new
// machine starts with the image's version and keeps its own from then on.
// The list is the store's, the decision the router's (plan/store-policy.ts).

// `made`: a file that does not exist yet in an OVERLAY directory (plan/
// persist-path.ts): its mount point is made there, the store has it.
type Decision = { bind: string; made?: true } | { skip: string } | { refuse: string };

function decide(places: Of<'state-file'>[], env: PlaceEnv): { place: Of<'state-file'>; decision: Decision }[] {
  return places.map((place) => {
    const fact = env.facts.paths[place.path];
    const shown = printable(place.path, 80);
    const refusal = storeRefusal(env.config.settings, place.path, fact?.resolved ?? place.path);
    if (refusal) return { place, decision: { refuse: `${place.where}: ${shown}: refused (${refusal})` } };
    if (!fact || !fact.resolved) {
      if (inOverlay(env.facts, place.path)) return { place, decision: { bind: place.path, made: true } };
      return { place, decision: { skip: `state-files: ${shown} does not exist on the root, skipped (${place.where})` } };
    }
    return { place, decision: { bind: fact.resolved } };
  });
}

export const stateFileKind: PlaceKind<'state-file'> = {
  plan(places, env) {
    const out = emptyPlan();
    const s = env.config.settings;
    const f = env.facts;
    const state = mountAt(f, s.stateMount);
    const base = hostOf(f, s.stateMount);
    for (const { place, decision } of decide(places, env)) {
      if ('refuse' in decision) out.warnings.push(`state-files: ${decision.refuse}`);
      else if ('skip' in decision) out.notes.push(decision.skip);
      else {
        const target = decision.bind;
        out.steps.push({
          id: `state-files:${target}`,
          phase: 'state-files',
          kind: 'bind',
          target,
          replicate: decision.made ? null : 'missing',
          mountPoint: decision.made ? 'auto' : null,
          root: f.root,
          rel: target,
          within: s.stateMount,
          base,
          store: { shared: !!state && state.fstype.startsWith('nfs'), shareSecrets: s.stateShareSecrets },
          argv: mountArgv({ bind: true, source: base + target, target: hostOf(f, target) }),
          timeoutSec: TIMEOUT_SEC.mount,
          fatal: false,
          why: place.where,
        });
      }
    }
    return out;
  },
  check: (places, env) =>
    decide(places, env).map(({ place, decision }): PlaceCheck => {
      const base = { kind: 'state-file' as const, path: place.path, how: 'persistent (state files)' };
      if ('refuse' in decision) return { ...base, state: 'refused', ok: false, detail: decision.refuse };
      if ('skip' in decision) return { ...base, state: 'skipped', ok: true, detail: 'does not exist on the root, skipped' };
      const ok = isMounted(env.facts, decision.bind);
      return { ...base, state: ok ? 'in place' : 'missing', ok, detail: ok ? `bind-mounted${decision.bind !== place.path ? ` at ${decision.bind}` : ''}` : 'not mounted' };
    }),
  undo: () => [], // nothing on the root: the bind is gone with the next boot
};
