import { readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { SNAPSHOT_BLOB, SNAPSHOT_ENTRY, SNAPSHOT_STAMP } from './config/own-paths';
import { writeAtomically } from './sys/atomic';
import { hostPath } from './sys/root-path';
import { run } from './sys/spawn';

// `roroot snapshot`: the boot stage's V8 startup snapshot, built by the
// node that will run it (the .deb's postinst, the image builder in the
// image's chroot), and the stamp /sbin/roroot-init and /usr/sbin/roroot
// check before they use the blob: a blob from another node aborts V8, so
// they start the plain bundle whenever a file of the stamp changed.
//
// The stamp is one line per file that makes this node: the binary first,
// as it is started (/usr/bin/node), then the libnode it maps (Debian's
// /usr/bin/node is 26 KB; V8 is in libnode.so.108, another package's file),
// each with its size and modification time (`stat -L -c %s:%Y`), which a
// new package changes; and a line `cpu FLAGS`, this CPU's flags from
// /proc/cpuinfo: V8 refuses a blob built where the CPU had other features
// ("built with a different version of V8 or with different V8
// configurations", node's exit 1): the image's blob, built on the build
// host, was refused by the QEMU guest's CPU. No inode: the first stamp had one, and every image
// carried a stamp of its build tree's inodes, which roroot flash's copy
// onto the root filesystem changes: no image ever started from its
// snapshot.

export function snapshotFiles(execPath: string, maps: string): string[] {
  const libs = maps
    .split('\n')
    .map((l) => (l.includes('/') ? l.slice(l.indexOf('/')) : ''))
    .filter((p) => /\/libnode\.so[.0-9]*$/.test(p));
  return [execPath, ...new Set(libs)];
}

export function snapshotStamp(root: string, files: string[], cpuinfo: string): string {
  const lines = files.map((f) => {
    const st = statSync(hostPath(root, f));
    return `${f} ${st.size}:${Math.floor(st.mtimeMs / 1000)}\n`;
  });
  return lines.join('') + `cpu ${cpuFlags(cpuinfo)}\n`;
}

// The first "flags : ..." line of /proc/cpuinfo, one blank between words
// (as snapshot-check.sh reads it back).
export function cpuFlags(cpuinfo: string): string {
  const line = cpuinfo.split('\n').find((l) => /^flags\s*:/.test(l)) ?? '';
  return line.replace(/^flags\s*:/, '').trim().split(/\s+/).filter(Boolean).join(' ');
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
  writeAtomically(hostPath(root, SNAPSHOT_STAMP), snapshotStamp(root, snapshotFiles(node, readFileSync('/proc/self/maps', 'utf8')), readFileSync('/proc/cpuinfo', 'utf8')));
  say(`snapshot: ${SNAPSHOT_BLOB} built by ${node} in ${Date.now() - t0} ms`);
  return 0;
}
