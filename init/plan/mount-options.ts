// Scratch and NFS mounts get nosuid,nodev unless the config asks for suid or
// dev explicitly: a file dropped on writable space (or served by a
// compromised NFS server) must not become a setuid binary or a device node.

const OPPOSITE: Record<string, string> = { nosuid: 'suid', nodev: 'dev' };

export function hardened(user: string[]): string[] {
  const out = [...user];
  for (const [safe, unsafe] of Object.entries(OPPOSITE)) {
    if (!out.includes(safe) && !out.includes(unsafe)) out.push(safe);
  }
  return out;
}

// The seed mounts NFS state `-o rw,nolock`; retry=0 stops mount.nfs from
// retrying for its default two minutes in the foreground, since boot bounds
// the wait itself and retries in the background.
export function nfsOptions(user: string[]): string[] {
  const base = ['rw', 'nolock', 'retry=0'].filter((o) => !user.some((u) => u.split('=')[0] === o.split('=')[0] || (o === 'rw' && u === 'ro')));
  return hardened([...base, ...user]);
}
