import { RECORD_DIR } from '../config/own-paths';
import { isUnder } from '../config/system-path';
import { mountArgv, TIMEOUT_SEC } from '../plan/argv';
import { batchBinds } from '../plan/bind-batch';
import { hostOf, isMounted, mountAt } from '../plan/facts';
import type { Step, StepOf } from '../plan/steps';
import { emptyPlan, type Of, type PlaceCheck, type PlaceEnv, type PlaceKind } from './types';

// The router's identity: what must differ between two routers flashed from
// one image and stay the same across the boots of one. With a read-only
// root nothing keeps it: systemd makes up a machine id at every boot, SSH
// host keys baked into an image are every router's. So roroot keeps each
// item on the persistent state (partition or NFS) from the first boot on,
// made by roroot itself when the state lacks it, and binds it over its
// place before init starts: no service ever sees a transient identity when
// a store is reachable. Without a store each is made anew on the scratch at
// every boot, and that is a degraded reason.

export interface IdentityItem {
  path: string;
  is: 'file' | 'dir';
  make: 'machine-id' | 'random-seed' | 'dropbear-keys' | 'ssh-keys' | 'dir';
  when: string; // only on a system that has this (the program or directory that uses it)
  what: string;
}

export const IDENTITY: IdentityItem[] = [
  { path: '/etc/machine-id', is: 'file', make: 'machine-id', when: '/etc', what: 'the machine id' },
  { path: '/etc/dropbear', is: 'dir', make: 'dropbear-keys', when: '/usr/sbin/dropbear', what: 'the SSH host keys' },
  { path: '/etc/ssh', is: 'dir', make: 'ssh-keys', when: '/usr/sbin/sshd', what: 'the SSH host keys' },
  { path: '/var/lib/systemd/random-seed', is: 'file', make: 'random-seed', when: '/var/lib/systemd', what: 'the random seed' },
  { path: '/var/lib/urandom/random-seed', is: 'file', make: 'random-seed', when: '/var/lib/urandom', what: 'the random seed' },
  { path: '/var/lib/dhcp', is: 'dir', make: 'dir', when: '/var/lib/dhcp', what: 'the DHCP leases' },
];

// Where the identity lives: the state, or (without one) the scratch.
function store(env: PlaceEnv): { mount: string; base: string; lasting: boolean } {
  const s = env.config.settings;
  const f = env.facts;
  if (isMounted(f, s.stateMount)) return { mount: s.stateMount, base: hostOf(f, s.stateMount), lasting: true };
  return { mount: s.rwMount, base: `${hostOf(f, s.rwMount)}/${RECORD_DIR}/identity`, lasting: false };
}

function applies(env: PlaceEnv, item: IdentityItem): boolean {
  return env.facts.paths[item.when]?.resolved !== null && env.facts.paths[item.when]?.resolved !== undefined;
}

// The commands that make an item, run inside the router's root at the
// lowest CPU priority. They run beside the boot stage's own steps, whose
// copies keep a core busy: at the default priority the two key makers took
// a share of both cores, and natively the rwtab boot was ~2 ms longer
// (97.4 against 95.6 ms, 2026-12-03); at nice 19 they take what the stage
// leaves (its waits for its commands), which is all they need.
function keygen(env: PlaceEnv, item: IdentityItem, copy: string): string[][] {
  const inRoot = (argv: string[]) => ['nice', '-n', '19', ...(env.facts.root === '/' ? argv : ['chroot', env.facts.root, ...argv])];
  const systemCopy = env.facts.root === '/' ? copy : copy.slice(env.facts.root.length);
  if (item.make === 'dropbear-keys') return ['ed25519', 'ecdsa'].map((t) => inRoot(['dropbearkey', '-t', t, '-f', `${systemCopy}/dropbear_${t}_host_key`]));
  if (item.make === 'ssh-keys') return [inRoot(['ssh-keygen', '-A', '-f', systemCopy.slice(0, -item.path.length) || '/'])];
  return [];
}

export const identityKind: PlaceKind<'identity'> = {
  plan(places, env) {
    const out = emptyPlan();
    const s = env.config.settings;
    const f = env.facts;
    const where = store(env);
    const items = places.map((p) => IDENTITY.find((i) => i.path === p.path)).filter((i): i is IdentityItem => !!i && applies(env, i));
    const makes: Step[] = [];
    const binds: Step[] = [];
    if (items.length > 0 && !where.lasting) out.warnings.push(`identity: no persistent state, so the identity changes at every boot: ${[...new Set(items.map((i) => i.what))].join(', ')} made anew for this one`);
    for (const item of items) {
      const fact = f.paths[item.path];
      const target = fact?.resolved ?? fact?.where ?? item.path;
      // The mount point must exist: on the read-only root it is the image's
      // (an empty /etc/machine-id), on the scratch it can be made.
      const onScratch = isUnder(target, s.rwMount);
      if (!fact?.resolved && !onScratch) {
        out.warnings.push(`identity: ${item.path} does not exist on the read-only root (the image must ship it, empty): ${item.what} not kept`);
        continue;
      }
      if (mountAt(f, target)) continue; // bound already (boot run twice)
      const copy = where.base + item.path;
      const id = `identity:${item.path}`;
      makes.push({
        id,
        phase: 'identity',
        kind: 'identity',
        item: item.make,
        is: item.is,
        copy,
        seed: item.make === 'ssh-keys' ? hostOf(f, item.path) : null,
        within: where.mount,
        argv: keygen(env, item, copy),
        fatal: false,
        why: `${item.what}, kept on ${where.lasting ? 'the persistent state' : 'the scratch (no state)'}`,
      });
      binds.push({
        id: `${id}:bind`,
        phase: 'identity',
        kind: 'bind',
        target,
        replicate: null,
        mountPoint: fact?.resolved ? null : item.is,
        root: f.root,
        rel: target,
        within: where.mount,
        base: where.base,
        store: null,
        argv: mountArgv({ bind: true, source: copy, target: hostOf(f, target) }),
        timeoutSec: TIMEOUT_SEC.mount,
        fatal: false,
        needs: id,
        why: item.what,
      });
    }
    // Every item made, then their binds in one mount, its fstab on the
    // scratch (plan/bind-batch.ts); one by one when no scratch is mounted
    // (`roroot mount-persistent` by hand, roroot off): the fstab would land
    // on the root, or on the master copy under the scratch's mount point.
    const scratch = isMounted(f, s.rwMount);
    out.steps.push(...makes, ...(scratch ? batchBinds(binds, `${hostOf(f, s.rwMount)}/${RECORD_DIR}/identity-binds.fstab`) : binds));
    return out;
  },
  check: (places, env) =>
    places
      .map((p) => IDENTITY.find((i) => i.path === p.path))
      .filter((i): i is IdentityItem => !!i && applies(env, i))
      .map((item): PlaceCheck => {
        const target = env.facts.paths[item.path]?.resolved ?? item.path;
        const base = { kind: 'identity' as const, path: item.path, how: `identity (${item.what})` };
        const m = mountAt(env.facts, target);
        const lasting = store(env).lasting;
        if (!m) return { ...base, state: 'missing', ok: false, detail: 'not bound: a service sees what the image has' };
        // Made for this boot: in place, the fallback the boot said it took.
        return { ...base, state: lasting ? 'in place' : 'fallback', ok: true, detail: lasting ? `kept on ${env.config.settings.stateMount}` : 'made for this boot only (no persistent state)' };
      }),
  undo: () => [], // nothing on the root: the bind is gone with the next boot
};

// The items made by programs (the SSH host key makers), for a boot that
// starts them beside its local steps (plan.identityAfter 'scratch'): they
// run in their own processes while the boot stage goes on. roroot's own
// writes (machine id, random seed) wait for the local steps: their read of
// /dev/random, which blocks until the kernel's generator is seeded, would
// hold up the local steps and the NFS mounts with them.
export function identityMakers(steps: Step[]): StepOf<'identity'>[] {
  return steps.filter((s): s is StepOf<'identity'> => s.kind === 'identity' && s.argv.length > 0);
}

export function identityPlaces(): Of<'identity'>[] {
  return IDENTITY.map((i) => ({ kind: 'identity', path: i.path }));
}
