import type { Cmdline } from './cmdline';
import type { Diagnostic } from './diagnostic';
import type { FstabEntry } from './fstab';
import type { RwtabEntry } from './rwtab';
import type { Settings } from './settings';

// Everything boot reads from files, parsed. Built by sys/read-config.ts.
export interface Config {
  settings: Settings;
  rwtab: RwtabEntry[];
  fstab: FstabEntry[];
  cmdline: Cmdline;
  etcHosts: string; // raw /etc/hosts, for the hostname's reverse lookup
  diagnostics: Diagnostic[];
}

export const CONFIG_FILES = {
  roroot: '/etc/roroot.conf',
  fedora: '/etc/sysconfig/readonly-root',
  rwtab: '/etc/rwtab',
  rwtabDir: '/etc/rwtab.d',
  fstab: '/etc/fstab',
  cmdline: '/proc/cmdline',
  hosts: '/etc/hosts',
  hostname: '/etc/hostname',
  mtab: '/etc/mtab',
} as const;
