// Scratch mounts get nosuid,nodev unless the config asks for suid or dev
// explicitly: a file dropped on writable space must not become a setuid
// binary or a device node.

const OPPOSITE: Record<string, string> = { nosuid: 'suid', nodev: 'dev' };

export function hardened(user: string[]): string[] {
  const out = [...user];
  for (const [safe, unsafe] of Object.entries(OPPOSITE)) {
    if (!out.includes(safe) && !out.includes(unsafe)) out.push(safe);
  }
  return out;
}

// A store (the persistent state, REMOTE) is data, whatever found it: an NFS
// server, a partition, a stick carrying our label. Its files never run,
// never gain privileges, are never devices: nosuid,nodev,noexec, and no
// option of the config takes that back.
const UNSAFE = new Set(['suid', 'dev', 'exec', 'nosuid', 'nodev', 'noexec']);
export function storeOptions(user: string[]): string[] {
  return [...user.filter((o) => !UNSAFE.has(o)), 'nosuid', 'nodev', 'noexec'];
}

// The seed mounts NFS state `-o rw,nolock`; retry=0 stops mount.nfs from
// retrying for its default two minutes in the foreground, since boot bounds
// the wait itself and retries in the background.
export function nfsOptions(user: string[]): string[] {
  const base = ['rw', 'nolock', 'retry=0'].filter((o) => !user.some((u) => u.split('=')[0] === o.split('=')[0] || (o === 'rw' && u === 'ro')));
  return storeOptions([...base, ...user]);
}
