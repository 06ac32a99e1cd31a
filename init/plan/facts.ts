import { join } from 'node:path/posix';
import type { ModulesFact } from './modules-dep';

// What the probe found out about the machine, as plain data: the planner's
// only window on the world. Paths are system paths (as the router sees
// them); `root` is where that system lies on this machine (--root).

export type PathKind = 'dir' | 'file' | 'symlink' | 'chardev' | 'blockdev' | 'other' | 'missing';

export interface PathFact {
  kind: PathKind;
  follows: PathKind; // the kind after following symlinks
  link: string | null; // readlink() when kind is symlink
  resolved: string | null; // the path with every symlink resolved inside the root; null when missing
  where: string; // resolved as far as it exists, the missing rest appended: where mkdir -p lands
}

export interface Mount {
  target: string; // system path
  source: string;
  fstype: string;
  device: string; // "major:minor" of the mounted filesystem
  options: string[]; // per-mount options: ro/rw, nosuid, ...
}

// A block device as blkid and /sys describe it, and whether anything holds
// it: opened O_EXCL, which the kernel refuses (EBUSY) for a device that is
// mounted, active swap, or under a loop, dm, md or LUKS mapping.
export interface BlockDevice {
  path: string; // /dev/vda2
  aliases: string[]; // other names the config used for it (/dev/disk/by-...)
  number: string; // major:minor
  sizeBytes: number;
  partition: boolean; // a partition of a disk
  partitions: number; // a whole disk's partitions
  label: string | null;
  uuid: string | null;
  partuuid: string | null;
  partlabel: string | null;
  fstype: string | null;
  claimed: string | null; // why an O_EXCL open failed (EBUSY), null: free
}

// ext4's error count of the filesystem mounted at / (sys/root-errors.ts).
export interface RootErrors {
  device: string; // /dev/vda1
  count: number;
}

export interface Facts {
  root: string; // this machine's path of the system's /: "/" on a router
  mounts: Mount[];
  blockDevices: BlockDevice[];
  paths: Record<string, PathFact>;
  kernelHostname: string; // "(none)" before anyone set it
  etcHostname: string | null; // /etc/hostname, first word
  addresses: string[]; // global IPv4 addresses, first one first
  reverseName: string | null; // what addresses[0] resolves to, if anything
  modules: ModulesFact | null; // the running kernel's modules.dep; null: not probed
  overlay: boolean | null; // the kernel has overlayfs or a module for it; null: not probed
  rootErrors: RootErrors | null; // what ext4 has recorded against the root; null: not ext4, or not known
  problems: string[]; // what the probe could not find out (blkid timed out): warnings of the plan
}

export function isMounted(facts: Facts, target: string): boolean {
  return facts.mounts.some((m) => m.target === target);
}

// The top mount at target, if any: the last one mounted there, which hides
// any under it (a read-only bind over a read-write root, say).
export function topMount(mounts: Mount[], target: string): Mount | undefined {
  return mounts.filter((m) => m.target === target).pop();
}

export function mountAt(facts: Facts, target: string): Mount | undefined {
  return topMount(facts.mounts, target);
}

// A system path as this machine sees it: under --root, resolved inside the
// tree (an absolute link /var/run -> /run means DIR/run, never this
// machine's /run), from the nearest probed ancestor; on a router, itself.
export function hostOf(facts: Facts, path: string): string {
  if (facts.root === '/') return path;
  for (let p = path; ; p = p.slice(0, Math.max(p.lastIndexOf('/'), 1))) {
    const fact = facts.paths[p];
    if (fact) return join(facts.root, fact.where, path.slice(p.length));
    if (p === '/') return join(facts.root, path);
  }
}

// The path of a symlink itself as this machine sees it (lstat: the parent
// resolved, the last component not followed).
export function linkHostOf(facts: Facts, path: string): string {
  if (facts.root === '/') return path;
  const slash = path.lastIndexOf('/');
  return join(hostOf(facts, path.slice(0, slash) || '/'), path.slice(slash + 1));
}

// A mount point to create first (inside the root): the path does not lead
// to anything yet.
export function mountPointToMake(facts: Facts, path: string): string | null {
  const fact = facts.paths[path];
  return !fact || fact.follows === 'missing' ? hostOf(facts, path) : null;
}
