import { parseCmdline, type Cmdline } from './cmdline';
import type { Diagnostic } from './diagnostic';
import { parseFstab, type FstabEntry } from './fstab';
import { isIgnoredRwtabFile, parseRwtab, type RwtabEntry } from './rwtab';
import { mergeSettings, type Settings } from './settings';
import { parseShellVars } from './shell-vars';

// Everything boot reads from files, parsed.
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

// Pure: the text of each file (null: absent), the names in /etc/rwtab.d and
// the kernel command line in; the parsed config and every problem out.
export function assembleConfig(read: (path: string) => string | null, rwtabDirNames: string[], cmdlineText: string): Config {
  const diagnostics: Diagnostic[] = [];
  const shellFile = (file: string) => ({ file, vars: parseShellVars(file, read(file) ?? '') });
  // Fedora's file first: roroot.conf wins key by key.
  const merged = mergeSettings([shellFile(CONFIG_FILES.fedora), shellFile(CONFIG_FILES.roroot)]);
  diagnostics.push(...merged.diagnostics);

  // /etc/rwtab, then /etc/rwtab.d/* in the shell's glob order, as rc.sysinit.
  const rwtabFiles = [CONFIG_FILES.rwtab, ...[...rwtabDirNames].sort().filter((n) => !isIgnoredRwtabFile(n)).map((n) => `${CONFIG_FILES.rwtabDir}/${n}`)];
  const rwtab: RwtabEntry[] = [];
  for (const file of rwtabFiles) {
    const parsed = parseRwtab(file, read(file) ?? '');
    rwtab.push(...parsed.entries);
    diagnostics.push(...parsed.diagnostics);
  }
  const fstab = parseFstab(CONFIG_FILES.fstab, read(CONFIG_FILES.fstab) ?? '');
  diagnostics.push(...fstab.diagnostics);
  const cmdline = parseCmdline(cmdlineText);
  diagnostics.push(...cmdline.diagnostics);
  // The disk's own scratch, from its bootloader (two-slot boards).
  const settings = cmdline.devices.rw ? { ...merged.settings, rwDevice: cmdline.devices.rw } : merged.settings;
  return { settings, rwtab, fstab: fstab.entries, cmdline, etcHosts: read(CONFIG_FILES.hosts) ?? '', diagnostics };
}
