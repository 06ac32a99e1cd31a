import type { RwtabMode } from '../config/rwtab';
import { isUnder } from '../config/system-path';
import { mountArgv, TIMEOUT_SEC } from '../plan/argv';
import { hostOf, isMounted } from '../plan/facts';
import type { Step } from '../plan/steps';
import { emptyPlan, type Of, type PlaceEnv, type PlaceKind } from './types';

// Fedora's rwtab (seed 000): the path is recreated on the scratch with the
// entry's meaning (empty: the path itself; dirs: its directory tree; files:
// all of it) and the copy is bound over it, in file order, skipping paths
// that do not exist (`[ -e $1 ]`).

type Decision = { bind: string } | { skip: string; refused?: true };

// One decision per entry, in order; plan and check both come from it.
function decide(places: Of<'rwtab'>[], env: PlaceEnv): { place: Of<'rwtab'>; decision: Decision }[] {
  const s = env.config.settings;
  const seen = new Set<string>();
  const bound: { target: string; mode: RwtabMode }[] = [];
  return places.map((place) => {
    const fact = env.facts.paths[place.path];
    const decision = ((): Decision => {
      if (!fact || !fact.resolved) return { skip: `${place.path} does not exist, skipped (${place.where})` };
      const target = fact.resolved;
      // A bind over / or over a directory holding a store would hide it.
      const store = [s.rwMount, s.stateMount, s.remoteMount].find((m) => isUnder(m, target));
      if (store) return { skip: `${place.path}: a bind there would hide ${store}, refused (${place.where})`, refused: true };
      if (isUnder(target, s.rwMount)) return { skip: `${place.path} is already on the scratch space (${place.where})` };
      const inStore = [s.stateMount, s.remoteMount].find((m) => isUnder(target, m));
      if (inStore) return { skip: `${place.path} lies inside ${inStore}, refused (${place.where})`, refused: true };
      if (seen.has(target)) return { skip: `${place.path} is listed twice, the first one counts (${place.where})` };
      // Fedora's own list has `files /var/log/audit/audit.log` after `dirs
      // /var/log`: once /var/log is bound, only its directories are there and
      // rc.sysinit's [ -e ] skips the file. Planned from the facts of the
      // unbound root, the copy would fail with ENOENT.
      const cover = bound.find((b) => isUnder(target, b.target) && (b.mode === 'empty' || fact.follows !== 'dir'));
      if (cover) return { skip: `${place.path} is hidden by ${cover.mode} ${cover.target} bound before it, skipped as rc.sysinit's [ -e ] does (${place.where})` };
      seen.add(target);
      bound.push({ target, mode: place.mode });
      return { bind: target };
    })();
    return { place, decision };
  });
}

export function rwtabBind(env: PlaceEnv, place: Of<'rwtab'>, target: string, phase: 'rwtab' | 'overlay' = 'rwtab', why?: string): Step {
  const s = env.config.settings;
  const f = env.facts;
  const base = hostOf(f, s.rwMount);
  return {
    id: `${phase}:${target}`,
    phase,
    kind: 'bind',
    target,
    replicate: place.mode,
    root: f.root,
    rel: target,
    within: s.rwMount,
    base,
    store: null,
    argv: mountArgv({ bind: true, options: s.slaveMounts ? ['slave'] : [], source: base + target, target: hostOf(f, target) }),
    timeoutSec: TIMEOUT_SEC.mount,
    fatal: false,
    why: why ?? `${place.mode} in ${place.where}${target !== place.path ? ` (${place.path} resolves to ${target})` : ''}`,
  };
}

export const rwtabKind: PlaceKind<'rwtab'> = {
  plan(places, env) {
    const out = emptyPlan();
    for (const { place, decision } of decide(places, env)) {
      if ('bind' in decision) out.steps.push(rwtabBind(env, place, decision.bind));
      else if (decision.refused) out.configErrors.push(`rwtab: ${decision.skip}`);
      else out.notes.push(`rwtab: ${decision.skip}`);
    }
    return out;
  },
  check: (places, env) =>
    decide(places, env).map(({ place, decision }) => {
      const base = { kind: 'rwtab' as const, path: place.path, how: `rwtab ${place.mode}` };
      if ('skip' in decision) return { ...base, state: decision.refused ? 'refused' : 'skipped', ok: !decision.refused, detail: decision.skip };
      const ok = isMounted(env.facts, decision.bind);
      return { ...base, state: ok ? 'in place' : 'missing', ok, detail: ok ? `bind-mounted${decision.bind !== place.path ? ` at ${decision.bind}` : ''}` : 'not mounted' };
    }),
  undo: () => [], // nothing on the root: the bind is gone with the next boot
};
