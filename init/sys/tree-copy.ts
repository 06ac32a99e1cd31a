import { chmodSync, chownSync, constants, copyFileSync, lchownSync, lstatSync, lutimesSync, mkdirSync, readdirSync, readlinkSync, symlinkSync, unlinkSync, utimesSync, type Stats } from 'node:fs';
import { childProcess } from './child';
import { isUnder } from '../config/system-path';

// Copies that preserve what a restore must preserve (type, mode including
// setuid bits, owner, times, symlinks as symlinks, device nodes, fifos) and
// that never write through a symlink on the destination side: content the
// master copy put on the scratch space (var/run -> /run, say) must not
// redirect a later copy onto the read-only root or elsewhere.

export type CopyDepth = 'node' | 'dirs' | 'all';

export class UnsafeCopyError extends Error {}

// A copy onto a persistent store is stricter: the store is data another
// machine may read and write, so only regular files, directories and
// symlinks go there (never a device node or a fifo), the copy stays on the
// filesystem it started on (`dev`), and on a server many routers share a
// file only root may read (an SSH host key) is not copied at all unless
// the config says so.
export interface StoreRules {
  dev: number; // st_dev of the copy's source
  shared: boolean;
  shareSecrets: boolean;
}

// Without throwIfNoEntry a missing path costs an exception with its stack
// trace; a restore asks about ~1000 paths that do not exist yet.
export function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path, { throwIfNoEntry: false }) ?? null;
  } catch {
    return null; // ENOTDIR and the like: not there either
  }
}

// `modeSet`: the object already has st's mode (copyFileSync gives the copy
// its source's mode), so only what chown clears needs setting again.
function applyOwnership(path: string, st: Stats, modeSet = false) {
  if (st.isSymbolicLink()) {
    lchownSync(path, st.uid, st.gid);
    lutimesSync(path, st.atime, st.mtime);
    return;
  }
  chownSync(path, st.uid, st.gid);
  if (!modeSet || (st.mode & 0o6000) !== 0) chmodSync(path, st.mode & 0o7777); // after chown, which clears setuid and setgid
  utimesSync(path, st.atime, st.mtime);
}

// Copy one filesystem object; with depth 'dirs' or 'all', what is under a
// directory too ('dirs': only the directories, as rc.sysinit's
// `find -type d | cpio -p` does).
export function copyTree(src: string, dst: string, depth: CopyDepth, store: StoreRules | null = null) {
  if (isUnder(dst, src)) throw new UnsafeCopyError(`refusing to copy ${src} into itself (${dst})`);
  if (store) checkForStore(src, depth, store);
  copy(src, dst, depth, false);
}

// `fresh`: dst's directory was made by this copy, so dst is not there (no
// lstat to find out: a restore of a few hundred files spent a fifth of its
// system calls asking), and the exclusive create below would fail if it were.
function copy(src: string, dst: string, depth: CopyDepth, fresh: boolean) {
  const st = lstatSync(src);
  const existing = fresh ? null : lstatOrNull(dst);
  if (st.isDirectory()) {
    if (existing?.isSymbolicLink()) throw new UnsafeCopyError(`refusing to copy into ${dst}: it is a symlink`);
    const made = !existing?.isDirectory();
    if (existing && made) unlinkSync(dst);
    if (made) mkdirSync(dst);
    if (depth !== 'node') {
      for (const entry of readdirSync(src, { withFileTypes: true })) {
        if (depth === 'dirs' && !entry.isDirectory()) continue;
        copy(`${src}/${entry.name}`, `${dst}/${entry.name}`, depth, made);
      }
    }
    applyOwnership(dst, st); // last, so the times are not changed by the children
    return;
  }
  if (depth === 'dirs') return;
  if (existing?.isDirectory()) throw new UnsafeCopyError(`refusing to replace directory ${dst} with a file`);
  if (existing) unlinkSync(dst); // also drops a symlink rather than write through it
  if (st.isSymbolicLink()) symlinkSync(readlinkSync(src), dst);
  else if (st.isFile()) {
    // Exclusive: nothing is there now (unlinked above), so a create that
    // finds something (a symlink planted meanwhile) fails rather than
    // write through it.
    copyFileSync(src, dst, constants.COPYFILE_EXCL);
    applyOwnership(dst, st, true);
    return;
  } else {
    // Device nodes, fifos, sockets: node has no mknod(2); cp -a makes them.
    const cp = childProcess().spawnSync('cp', ['-a', '--', src, dst], { encoding: 'utf8', timeout: 10_000 });
    if (cp.status !== 0) throw new Error(`cp -a ${src} ${dst}: ${(cp.stderr || '').trim() || `exit ${cp.status}`}`);
    return;
  }
  applyOwnership(dst, st);
}

// The whole source first, so that a refused copy writes nothing.
function checkForStore(src: string, depth: CopyDepth, rules: StoreRules) {
  const st = lstatSync(src);
  if (st.dev !== rules.dev) throw new UnsafeCopyError(`refusing to copy ${src}: it is on another filesystem`);
  if (!st.isDirectory() && !st.isFile() && !st.isSymbolicLink()) throw new UnsafeCopyError(`refusing to copy ${src} onto a store: only files, directories and symlinks go there`);
  if (rules.shared && !rules.shareSecrets && st.isFile() && (st.mode & 0o004) === 0) {
    throw new UnsafeCopyError(`refusing to copy ${src} (mode ${(st.mode & 0o777).toString(8)}) onto a server other routers share (STATE_SHARE_SECRETS=yes allows it)`);
  }
  if (st.isDirectory() && depth !== 'node') for (const name of readdirSync(src)) checkForStore(`${src}/${name}`, depth, rules);
}

// mkdir -p of `relative` under `base`, each new directory taking the mode
// and owner of its counterpart on the root (model(rel) gives its host path),
// refusing to pass through a symlink.
export function mkdirsWithin(base: string, relative: string, model: (rel: string) => string) {
  let rel = '';
  for (const name of relative.split('/').filter(Boolean)) {
    rel += `/${name}`;
    const path = base + rel;
    const st = lstatOrNull(path);
    if (st?.isSymbolicLink()) throw new UnsafeCopyError(`refusing to follow symlink ${path}`);
    if (st && !st.isDirectory()) throw new UnsafeCopyError(`${path} is not a directory`);
    if (st) continue;
    mkdirSync(path);
    const like = lstatOrNull(model(rel));
    if (like?.isDirectory()) applyOwnership(path, like);
  }
}
