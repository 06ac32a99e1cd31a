import { renameSync, rmSync, statSync } from 'node:fs';
import { SNAPSHOT_BLOB, SNAPSHOT_ENTRY, SNAPSHOT_STAMP } from './config/own-paths';
import { writeAtomically } from './sys/atomic';
import { hostPath } from './sys/root-path';
import { run } from './sys/spawn';

// `roroot snapshot`: the boot stage's V8 startup snapshot, built by the
// node that will run it (the .deb's postinst, the image builder in the
// image's chroot), and the stamp /sbin/roroot-init compares with that node
// before it uses the blob: `stat -L -c %s:%Y:%i` of the binary, which a
// new nodejs package changes. A blob from another node aborts V8, so the
// trampoline falls back to the plain bundle whenever the stamp differs.

export function nodeStamp(node: string): string {
  const st = statSync(node);
  return `${st.size}:${Math.floor(st.mtimeMs / 1000)}:${st.ino}`;
}

export async function buildSnapshot(root: string, say: (l: string) => void): Promise<number> {
  if (root !== '/') {
    say('snapshot: only for the running system: the blob must be built by the node that runs it (run it in a chroot)');
    return 2;
  }
  const node = process.execPath;
  const tmp = `${hostPath(root, SNAPSHOT_BLOB)}.roroot-new`;
  const t0 = Date.now();
  const r = await run(node, ['--snapshot-blob', tmp, '--build-snapshot', hostPath(root, SNAPSHOT_ENTRY)], { timeoutSec: 300 });
  if (r.code !== 0) {
    rmSync(tmp, { force: true });
    rmSync(hostPath(root, SNAPSHOT_STAMP), { force: true });
    say(`snapshot: ${node} --build-snapshot ${SNAPSHOT_ENTRY}: exit ${r.code}: ${r.stderr.trim().split('\n').pop() ?? ''}; roroot starts from the plain bundle`);
    return 1;
  }
  renameSync(tmp, hostPath(root, SNAPSHOT_BLOB));
  writeAtomically(hostPath(root, SNAPSHOT_STAMP), `${nodeStamp(node)}\n`);
  say(`snapshot: ${SNAPSHOT_BLOB} built by ${node} in ${Date.now() - t0} ms`);
  return 0;
}
