import { RECORD_DIR } from '../config/own-paths';
import { isUnder } from '../config/system-path';
import { mountArgv, TIMEOUT_SEC } from '../plan/argv';
import { hostOf, mountAt } from '../plan/facts';
import type { Step } from '../plan/steps';
import { rwtabBind } from './rwtab';
import { emptyPlan, type Of, type PlaceCheck, type PlaceEnv, type PlaceKind } from './types';

// OVERLAY: a directory of the root under an overlayfs whose upper and work
// directories are on the scratch (the tmpfs fallback too). Writes land on
// the scratch, never on the root, and each boot starts again from what the
// root holds, without copying the directory first as rwtab's `files` must.
// Where the kernel has no overlayfs (raspi-config #212: the module gone
// after a kernel update), or the mount fails, the directory is copied onto
// the scratch and bound instead, loudly: same result, slower, degraded.

// Where an overlay's layers live on the scratch.
export function overlayDirs(rwMount: string, path: string): { upper: string; work: string } {
  return { upper: `${rwMount}/${RECORD_DIR}/overlay${path}/upper`, work: `${rwMount}/${RECORD_DIR}/overlay${path}/work` };
}

type Decision = { mount: string } | { refuse: string };

function decide(places: Of<'overlay'>[], env: PlaceEnv): { place: Of<'overlay'>; decision: Decision }[] {
  const s = env.config.settings;
  const f = env.facts;
  // What another place or a store already owns: an overlay may neither lie
  // inside one nor hold one (its mount would hide or be hidden by it).
  const others = [
    ...[s.rwMount, s.stateMount, s.remoteMount, s.rwMaster].map((p) => ({ path: p, what: 'a store' })),
    ...s.volatile.map((p) => ({ path: p, what: 'VOLATILE' })),
    ...s.persistent.map((p) => ({ path: p, what: 'PERSISTENT' })),
    ...env.config.rwtab.map((e) => ({ path: f.paths[e.path]?.resolved ?? e.path, what: `rwtab (${e.file}:${e.line})` })),
  ];
  const taken: string[] = [];
  return places.map((place) => {
    const decision = ((): Decision => {
      const fact = f.paths[place.path];
      if (place.path === '/') return { refuse: 'OVERLAY: / itself cannot be an overlay (the root is what stays read-only)' };
      if (!fact || !fact.resolved) return { refuse: `OVERLAY: ${place.path} does not exist` };
      if (fact.follows !== 'dir') return { refuse: `OVERLAY: ${place.path} is a ${fact.follows}, not a directory` };
      const target = fact.resolved;
      // A filesystem of its own mounted there (not this overlay, nor its
      // copy on the scratch, when boot runs again or status looks).
      const scratch = mountAt(f, s.rwMount);
      const mounted = f.mounts.find((m) => m.target === target && m.fstype !== 'overlay' && m.device !== scratch?.device);
      if (mounted) return { refuse: `OVERLAY: ${place.path} is a mount point (${mounted.fstype} from ${mounted.source})` };
      const clash = others.find((o) => isUnder(target, o.path) || isUnder(o.path, target));
      if (clash) return { refuse: `OVERLAY: ${place.path} ${isUnder(target, clash.path) ? 'lies inside' : 'holds'} ${clash.path} (${clash.what})` };
      const nested = taken.find((t) => isUnder(target, t) || isUnder(t, target));
      if (nested) return { refuse: `OVERLAY: ${place.path} and the overlay of ${nested} overlap` };
      taken.push(target);
      return { mount: target };
    })();
    return { place, decision };
  });
}

function copyInstead(env: PlaceEnv, place: Of<'overlay'>, target: string, why: string): Step {
  return { ...rwtabBind(env, { kind: 'rwtab', mode: 'files', path: place.path, where: 'OVERLAY' }, target, 'overlay', why), id: `overlay.copy:${target}` };
}

export const overlayKind: PlaceKind<'overlay'> = {
  plan(places, env) {
    const out = emptyPlan();
    const s = env.config.settings;
    const f = env.facts;
    for (const { place, decision } of decide(places, env)) {
      if ('refuse' in decision) {
        out.warnings.push(`${decision.refuse}: not made writable`);
        continue;
      }
      const target = decision.mount;
      if (f.overlay === false) {
        out.warnings.push(`overlay: the kernel has no overlay filesystem (no overlay module for ${f.modules?.release ?? 'this kernel'}): ${place.path} is copied onto the scratch and bound instead`);
        out.steps.push(copyInstead(env, place, target, 'OVERLAY, without overlayfs: a copy on the scratch'));
        continue;
      }
      const { upper, work } = overlayDirs(s.rwMount, target);
      const rw = hostOf(f, s.rwMount);
      const dirs = `overlay.dirs:${target}`;
      out.steps.push(
        { id: dirs, phase: 'overlay', kind: 'mkdir', within: s.rwMount, base: rw, rels: [upper, work].map((d) => d.slice(s.rwMount.length)), fatal: false, why: `OVERLAY: the upper and work directories of ${target}` },
        {
          id: `overlay:${target}`,
          phase: 'overlay',
          kind: 'mount',
          target,
          mkdir: null,
          argv: mountArgv({ fstype: 'overlay', options: [`lowerdir=${hostOf(f, target)}`, `upperdir=${hostOf(f, upper)}`, `workdir=${hostOf(f, work)}`], source: 'overlay', target: hostOf(f, target) }),
          timeoutSec: TIMEOUT_SEC.mount,
          fatal: false,
          needs: dirs,
          fallback: [copyInstead(env, place, target, `the overlay mount of ${target} failed: a copy on the scratch instead`)],
          why: `OVERLAY: ${place.path}, the root below, the scratch above`,
        },
      );
    }
    return out;
  },
  check: (places, env) =>
    decide(places, env).map(({ place, decision }): PlaceCheck => {
      const base = { kind: 'overlay' as const, path: place.path, how: 'overlay' };
      if ('refuse' in decision) return { ...base, state: 'refused', ok: false, detail: decision.refuse };
      const m = mountAt(env.facts, decision.mount);
      if (!m) return { ...base, state: 'missing', ok: false, detail: 'not mounted' };
      if (m.fstype === 'overlay') return { ...base, state: 'in place', ok: true, detail: `overlayfs, upper layer on ${env.config.settings.rwMount}` };
      return { ...base, state: 'fallback', ok: true, detail: `a copy on the scratch (${m.fstype}), not an overlay` };
    }),
  undo: () => [], // nothing on the root: the overlay is gone with the next boot
};
