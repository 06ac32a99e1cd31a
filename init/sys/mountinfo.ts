import type { Mount } from '../plan/facts';

// /proc/self/mountinfo (proc(5)): "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw"
// Mount points are as this process sees them; under --root DIR only those
// inside DIR are the system's, and they are returned as system paths.

export function parseMountinfo(text: string, root: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    if (dash < 6) continue;
    const target = toSystemPath(unescape(fields[4]), root);
    if (target === null) continue;
    // A device named through the tree (DIR/dev/vda2) is the system's /dev/vda2.
    const source = unescape(fields[dash + 2] ?? '');
    mounts.push({ target, device: fields[2], options: fields[5].split(','), fstype: fields[dash + 1], source: toSystemPath(source, root) ?? source });
  }
  return mounts;
}

function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

function toSystemPath(mountpoint: string, root: string): string | null {
  if (root === '/') return mountpoint;
  const base = root.replace(/\/+$/, '');
  if (mountpoint === base) return '/';
  return mountpoint.startsWith(base + '/') ? mountpoint.slice(base.length) : null;
}
