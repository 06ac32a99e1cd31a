import { checkLink, linkStep, undoLink, type LinkInto } from './link-into';
import { emptyPlan, type PlaceEnv, type PlaceKind } from './types';

// PERSISTENT: a symlink into the NFS export mounted at REMOTE_MOUNT (seed
// 004's /var/lib/roroot/remote); a new directory there is first seeded from
// REMOTE_MASTER, the content the image had.

export function persistentLink(env: PlaceEnv): LinkInto {
  const s = env.config.settings;
  return { kind: 'persistent', phase: 'persistent', mount: s.remoteMount, master: s.remoteMaster, seed: s.remoteMaster, needs: 'remote.nfs', how: 'persistent symlink (REMOTE)' };
}

export const persistentKind: PlaceKind<'persistent'> = {
  plan(places, env) {
    const out = emptyPlan();
    if (places.length === 0) return out;
    if (!env.config.settings.remote) {
      out.warnings.push(`PERSISTENT is set but REMOTE is not: ${places.map((p) => p.path).join(' ')} will not be writable`);
      return out;
    }
    for (const { path } of places) out.steps.push(linkStep(env.facts, path, persistentLink(env)));
    return out;
  },
  check: (places, env) => places.map((p) => checkLink(env, p.path, persistentLink(env))),
  undo: (place, env, created) => undoLink(env.facts, place.path, persistentLink(env), created),
};
