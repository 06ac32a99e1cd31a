import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

// One read-write window at a time. The lock is a file made with O_EXCL
// holding the owner's pid; it lives on the scratch, so a reboot clears it.
// A lock whose pid is gone (a `roroot rw` killed with SIGKILL) is taken
// over, and the caller is told so.

export type Lock = { held: true; release: () => void; staleOwner: string | null } | { held: false; owner: string };

export function takeLock(file: string, what: string): Lock {
  mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const owner = readOwner(file);
    if (owner && alive(owner.pid)) return { held: false, owner: `pid ${owner.pid}: ${owner.what}` };
    unlinkSync(file);
    const taken = takeLock(file, what); // once more; someone alive may have won meanwhile
    return taken.held ? { ...taken, staleOwner: owner ? `pid ${owner.pid}: ${owner.what}` : 'an unreadable lock' } : taken;
  }
  writeSync(fd, `${process.pid}\n${what}\n`);
  closeSync(fd);
  return { held: true, staleOwner: null, release: () => unlinkSync(file) };
}

function readOwner(file: string): { pid: number; what: string } | null {
  try {
    const [pid, what] = readFileSync(file, 'utf8').split('\n');
    return /^\d+$/.test(pid) ? { pid: Number(pid), what: what ?? '' } : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
