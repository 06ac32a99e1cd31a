import type { RwtabMode } from '../config/rwtab';

// What boot does, as data. The planner produces these, `roroot plan` prints
// them, the executor runs them and decides nothing: a step that runs a
// command carries its exact argv (paths as this machine sees them, so
// under --root DIR they lie inside DIR), and describe() is that argv
// joined. `target`s are system paths, for telling what is mounted.

export type Phase = 'pseudo' | 'root' | 'scratch' | 'volatile' | 'rwtab' | 'overlay' | 'hostname' | 'state' | 'identity' | 'state-files' | 'remote' | 'persistent' | 'modules';

interface StepBase {
  id: string; // unique in a plan, e.g. "scratch.mkfs"; `needs` refers to it
  phase: Phase;
  why: string; // the reason this step (or this choice) was planned
  fatal: boolean; // failing (after any fallback) means nothing usable could be made
  needs?: string; // skip this step unless the step with this id succeeded as planned
  fallback?: Step[]; // run instead when this step fails
  fallbackWhen?: string; // ...but only when the error matches this (a RegExp source); otherwise the step just failed
  // network: an NFS mount, or a step that waits for one; boot runs these
  // beside the local steps (a server seconds away must not hold them up).
  lane?: 'network';
}

// An external command: argv[0] from PATH, killed after timeoutSec. Every
// command of a boot is bounded: a failing disk must not hang the router.
export interface Command {
  argv: string[];
  timeoutSec: number;
}

// The device a mkfs step was planned for, checked again right before it
// runs: the device behind that name must still be this one.
export interface DeviceIdentity {
  path: string; // system path, /dev/vda2
  number: string; // major:minor
  sizeBytes: number;
  partuuid: string | null;
  label: string | null;
}

// Rwtab's meanings (seed 000), and `missing`: copy like files, only when
// the store lacks it (first boot of a persistent state directory).
export type Replicate = RwtabMode | 'missing';

export type Step = StepBase &
  (
    | ({ kind: 'mount'; target: string; mkdir: string | null } & Command) // mkdir: create this mount point first (inside the root)
    // / remounted read-write (a boot with roroot off on a converted system).
    | ({ kind: 'remount'; target: string } & Command)
    // mkfs of a scratch device, filled from the master copy in the same pass (mke2fs -d).
    | ({ kind: 'mkfs'; device: DeviceIdentity } & Command)
    // cp -a of the master copy onto a fresh tmpfs.
    | ({ kind: 'fill' } & Command)
    // Bind a store's copy over target. `replicate` first recreates the
    // target (`rel`, resolved on the root at `root`) inside the store mounted
    // at `within` (`base` as this machine sees it), never writing through a
    // symlink; `store`: that is a persistent store, so only regular files,
    // directories and symlinks are copied, on one filesystem, and files only
    // root can read stay off a shared server.
    | (BindBody & Command)
    // Several binds of one phase (rwtab's, the identity's) mounted by one
    // `mount -a -T FILE` (util-linux reads FILE as an fstab): the members
    // whose `needs` succeeded, each one's replicate and mount point first,
    // then one mount for all members whose replicate worked. FILE holds one
    // line per member.
    | ({ kind: 'bind-batch'; file: string; members: Bind[] } & Command)
    // `path` becomes a symlink to `target` (already right: nothing to do).
    // ensure: first create the target directory `rel` under the mount
    // `within` (`base` here), with the modes of its counterpart on the root
    // at `root`, or as a copy of `seed` when that exists (the first content
    // of a persistent directory).
    | { kind: 'symlink'; path: string; link: string; target: string; ensure: { within: string; base: string; rel: string; root: string; seed: string | null } | null }
    // Directories on the scratch for a place (an overlay's upper and work),
    // under the mount `within` (`base` here): `rels` below it.
    | { kind: 'mkdir'; within: string; base: string; rels: string[] }
    // A new router's own directory on the server: mkdir `dir` (there
    // already: fine), and the fleet's files template copied into it.
    | { kind: 'enrol'; name: string; dir: string; template: string; server: string }
    | ({ kind: 'nfs'; target: string; mkdir: string | null; retry: boolean } & Command)
    | ({ kind: 'umount'; target: string } & Command)
    | { kind: 'hostname'; name: string; file: string }
    // An identity item kept on a store (places/identity.ts): made at `copy`
    // when the store lacks it, by roroot or by the commands in `argv`
    // (dropbearkey, ssh-keygen: each only for a key that is missing), a
    // directory first copied from `seed` (the root's /etc/ssh and its config).
    | { kind: 'identity'; item: 'machine-id' | 'random-seed' | 'dropbear-keys' | 'ssh-keys' | 'dir'; is: 'file' | 'dir'; copy: string; seed: string | null; within: string; argv: string[][] }
    // Regenerate modules.dep: depmod into `work` (on the scratch) first,
    // then only atomic renames into `dir` inside a read-write window of the
    // root. Windows are recorded under `scratch`. System paths: the depmod
    // performer (rw/modules-dep.ts) works under --root itself.
    | { kind: 'depmod'; release: string; dir: string; work: string; scratch: string }
  );

interface BindBody {
  kind: 'bind';
  target: string;
  replicate: Replicate | null;
  mountPoint?: 'file' | 'dir' | 'auto' | null; // made first where the target is missing (on the scratch or in an overlay); auto: as the source is
  root: string;
  rel: string;
  within: string;
  base: string;
  store: StoreCopy | null;
}
export type Bind = StepBase & BindBody & Command;

export interface StoreCopy {
  shared: boolean; // an NFS server many routers use
  shareSecrets: boolean; // STATE_SHARE_SECRETS
}

export type StepKind = Step['kind'];
export type StepOf<K extends StepKind> = Extract<Step, { kind: K }>;

export interface Plan {
  active: boolean; // false: roroot is off, hand over at once
  reason: string; // why active or not
  steps: Step[];
  notes: string[]; // decisions that produced no step (skipped rwtab paths, fallbacks chosen up front)
  configErrors: string[]; // config lines that were skipped: file:line: what was expected
  warnings: string[]; // what makes this boot less than configured: each one is a degraded reason
  // What the identity waits for: its items are made once their store is
  // mounted, and bound over their places after the local steps at the
  // earliest. 'scratch': no step mounts the state (there is none, or it is
  // mounted already), so the store is there once the scratch is, and the
  // keys are made beside the local steps; 'local': a local state
  // partition; 'network': the network lane too, which mounts the state or
  // puts something on an identity path.
  identityAfter: 'scratch' | 'local' | 'network';
  // When the network lane starts: 'plan', at once, before the scratch is
  // made; 'scratch', once the scratch is mounted, when a step of the lane
  // uses a path on it (CLIENTSTATE's enrolment mounts on it; a persistent
  // link through a link the root has into it); 'local', after the local
  // steps, when it uses a path under what one of them puts in place (a
  // persistent link under a volatile link or an rwtab bind).
  networkAfter: 'plan' | 'scratch' | 'local';
}
