import { INIT_PATH, LIB_DIR, STATE_DIR } from '../config/own-paths';
import type { Settings } from '../config/settings';
import { isUnder } from '../config/system-path';

// What a store's files list may bind over the root. The list lives on the
// store (Fedora's format, so existing states keep working), and a store is
// data: an NFS server with AUTH_SYS has no integrity, one compromised
// router of a fleet can write every other router's list, a USB stick can
// carry our label. So the router's own config decides: only paths under
// STATE_ALLOW (when set), and never one of DENIED, which no store and no
// config can lift: the system's programs and libraries, the kernel's
// filesystems, who may log in, what the loader preloads, how the machine
// starts, and roroot's own config and stores.

const DENIED = [
  '/bin',
  '/sbin',
  '/usr',
  '/boot',
  '/proc',
  '/sys',
  '/dev',
  '/run',
  '/etc/passwd',
  '/etc/shadow',
  '/etc/group',
  '/etc/gshadow',
  '/etc/fstab',
  '/etc/inittab',
  '/etc/init.d',
  '/etc/systemd',
  '/etc/pam.d',
  '/etc/security',
  '/etc/profile',
  '/etc/profile.d',
  '/etc/environment',
  '/etc/modprobe.d',
  '/etc/udev',
  '/etc/roroot.conf',
  '/etc/sysconfig/readonly-root',
  '/etc/rwtab',
  '/etc/rwtab.d',
  STATE_DIR,
  LIB_DIR,
  INIT_PATH,
];
// Whole families: /lib, /lib32, /lib64, /libx32; /etc/sudoers and
// /etc/sudoers.d; /etc/ld.so.preload, .conf, .conf.d, .cache; /etc/rc?.d.
const DENIED_NAMES = [/^\/lib[^/]*$/, /^\/etc\/sudoers[^/]*$/, /^\/etc\/ld\.so\.[^/]*$/, /^\/etc\/rc[0-6S]\.d$/, /^\/etc\/cron[^/]*$/];

// Why `path` (and what it resolves to on the root) may not be bound from a
// store, or null when it may.
export function storeRefusal(s: Settings, path: string, resolved: string): string | null {
  for (const p of new Set([path, resolved])) {
    const via = p === path ? '' : `it resolves to ${p}; `;
    if (p === '/') return `${via}/ itself`;
    const prefixes = p.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'));
    const denied = DENIED.find((d) => isUnder(p, d) || isUnder(d, p)) ?? prefixes.find((prefix) => DENIED_NAMES.some((re) => re.test(prefix)));
    if (denied) return `${via}${relation(p, denied)}: no store may bind over it`;
    const store = [s.rwMount, s.stateMount, s.remoteMount].find((m) => isUnder(p, m) || isUnder(m, p));
    if (store) return `${via}${relation(p, store)}, a store`;
  }
  if (s.stateAllow.length > 0 && !s.stateAllow.some((a) => isUnder(path, a) && isUnder(resolved, a))) return `not under STATE_ALLOW (${s.stateAllow.join(' ')})`;
  return null;
}

function relation(p: string, other: string): string {
  return p === other ? p : isUnder(p, other) ? `${p} lies under ${other}` : `${p} holds ${other}`;
}
