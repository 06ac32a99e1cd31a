import { INIT_PATH } from '../config/own-paths';

// Pure: what `roroot install` changes besides the places themselves
// (places/link-into.ts converts those): the default volatile list, / read-only
// in fstab, init= on the kernel command line.

// The seed's list, as it maps onto a Debian system today. /var/run and
// /var/lock are symlinks into /run (a tmpfs) on current Debian and are then
// left alone; on older systems they are real directories and move.
export const DEFAULT_VOLATILE = ['/tmp', '/var/log', '/var/tmp', '/var/run', '/var/lock', '/var/spool/*', '/var/backups', '/var/cache/man', '/var/lib/dhcp'];

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
  return `${cmdline.trim()} init=${INIT_PATH}`.trim();
}
