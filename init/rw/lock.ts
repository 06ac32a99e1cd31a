import type { ChildProcess } from 'node:child_process';
import { childProcess } from '../sys/child';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

// One read-write window at a time, and a window that is always closed.
//
// The lock is flock(2) on a file on the scratch, held by a small supervisor
// process (util-linux's flock running sh): the kernel drops it when the
// holder dies, so there is no stale lock to take over (a lock file with a
// pid in it had two takers of a dead owner's lock both win, 93 times in
// 3000 races). The supervisor is in a session of its own, ignores every
// signal and waits on a pipe from roroot: when roroot ends without saying
// it closed the window itself (SIGKILL, a crash), it remounts / read-only,
// retrying while writers finish, and says so in the kernel log.

export type Lock = { held: true; release: () => void } | { held: false; owner: string };

const BUSY = 75; // flock -E: the exit status when the lock is held

// $1: the root to remount; $2: where to say it (/dev/kmsg or /dev/null).
const SUPERVISOR = `trap '' INT TERM HUP QUIT USR1 USR2 PIPE ALRM
echo locked
read -r word || word=
[ "$word" = done ] && exit 0
n=1
while [ $n -le 10 ]; do
  if mount -n -o remount,ro "$1" 2>/dev/null; then
    echo "<4>roroot: rw-window: its owner died with / read-write: closed by its supervisor" > "$2" 2>/dev/null
    exit 0
  fi
  sleep $n; n=$((n + 1))
done
echo "<3>roroot: rw-window: its owner died, and / IS STILL WRITABLE: mount -o remount,ro / failed" > "$2" 2>/dev/null
exit 1`;

export function takeLock(file: string, what: string, root: string, kmsg: string | null): Promise<Lock> {
  mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
  const owner = `${file}.owner`;
  return new Promise((resolve, reject) => {
    const child: ChildProcess = childProcess().spawn('flock', ['-n', '-E', String(BUSY), file, 'sh', '-c', SUPERVISOR, 'sh', root, kmsg ?? '/dev/null'], { detached: true, stdio: ['pipe', 'pipe', 'ignore'] });
    let out = '';
    child.on('error', reject);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (!out.startsWith('locked\n')) return;
      child.stdout?.destroy(); // nothing more comes, and an open pipe would keep roroot alive
      child.unref();
      writeFileSync(owner, `${process.pid}\n${what}\n`);
      resolve({
        held: true,
        release: () => {
          rmSync(owner, { force: true });
          child.stdin?.end('done\n');
        },
      });
    });
    child.on('exit', (code) => {
      if (out.startsWith('locked\n')) return;
      if (code === BUSY) resolve({ held: false, owner: readOwner(owner) });
      else reject(new Error(`flock ${file}: exit ${code}`));
    });
  });
}

function readOwner(file: string): string {
  try {
    const [pid, what] = readFileSync(file, 'utf8').split('\n');
    return `pid ${pid}: ${what}`;
  } catch {
    return 'another roroot rw';
  }
}
