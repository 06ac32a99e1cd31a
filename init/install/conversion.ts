import type { PathFact } from '../plan/facts';

// Pure: what `roroot install` does to each path that should become volatile
// (seed 004: the directory moves into the master copy and a symlink into
// the scratch mount takes its place).

// The seed's list, as it maps onto a Debian system today. /var/run and
// /var/lock are symlinks into /run (a tmpfs) on current Debian and are then
// left alone; on older systems they are real directories and move.
export const DEFAULT_VOLATILE = ['/tmp', '/var/log', '/var/tmp', '/var/run', '/var/lock', '/var/spool/*', '/var/backups', '/var/cache/man', '/var/lib/dhcp'];

export type Conversion =
  | { kind: 'move'; path: string } // a directory: into the master copy, then the link
  | { kind: 'create'; path: string } // missing: an empty directory in the master copy, then the link
  | { kind: 'already'; path: string } // the link is there and right
  | { kind: 'skip'; path: string; why: string };

export function planConversion(path: string, fact: PathFact, rwMount: string): Conversion {
  const target = rwMount + path;
  if (fact.kind === 'symlink') {
    return fact.link === target ? { kind: 'already', path } : { kind: 'skip', path, why: `already a symlink to ${fact.link}` };
  }
  if (fact.kind === 'missing') return { kind: 'create', path };
  if (fact.kind !== 'dir') return { kind: 'skip', path, why: `is a ${fact.kind}, not a directory` };
  return { kind: 'move', path };
}

// The options of the fstab line for / with `ro` in place of `rw`/`defaults`
// alone; null when the line says ro already.
export function readOnlyOptions(options: string[]): string[] | null {
  if (options.includes('ro')) return null;
  const kept = options.filter((o) => o !== 'rw' && o !== 'defaults');
  return [...(options.includes('defaults') ? ['defaults'] : []), 'ro', ...kept];
}

// An extlinux/syslinux APPEND line or a GRUB_CMDLINE_LINUX value with
// init=/sbin/roroot-init; null when an init= is there already.
export function withInit(cmdline: string): string | null {
  if (/(^|\s)init=/.test(cmdline)) return null;
  return `${cmdline.trim()} init=/sbin/roroot-init`.trim();
}
