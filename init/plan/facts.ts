import type { ModulesFact } from './modules-dep';

// What the probe found out about the machine, as plain data: the planner's
// only window on the world. Keys are system paths and device specs as the
// config names them.

export type PathKind = 'dir' | 'file' | 'symlink' | 'chardev' | 'blockdev' | 'other' | 'missing';

export interface PathFact {
  kind: PathKind;
  follows: PathKind; // the kind after following symlinks
  link: string | null; // readlink() when kind is symlink
  resolved: string | null; // the path with every symlink resolved inside the root; null when missing
}

export interface Mount {
  target: string; // system path
  source: string;
  fstype: string;
  device: string; // "major:minor" of the mounted filesystem
  options: string[]; // per-mount options: ro/rw, nosuid, ...
}

export interface Facts {
  mounts: Mount[];
  devices: Record<string, string | null>; // spec ("LABEL=x", "/dev/sda2") -> device path, null: not found
  deviceNumbers: Record<string, string>; // device path -> "major:minor"
  paths: Record<string, PathFact>;
  kernelHostname: string; // "(none)" before anyone set it
  etcHostname: string | null; // /etc/hostname, first word
  addresses: string[]; // global IPv4 addresses, first one first
  reverseName: string | null; // what addresses[0] resolves to, if anything
  modules: ModulesFact | null; // the running kernel's modules.dep; null: not probed
}

export function isMounted(facts: Facts, target: string): boolean {
  return facts.mounts.some((m) => m.target === target);
}
