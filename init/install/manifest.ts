import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { MANIFEST } from '../config/own-paths';
import { hostPath } from '../sys/root-path';

// What `roroot install` changed, so that `roroot uninstall` puts back
// exactly that: the directories it moved, the ones it created, and the
// files it edited or created (edited ones are kept whole under ORIG_DIR).

export interface Manifest {
  version: string;
  createdDirs: string[]; // /var/lib/roroot, the mount points: did not exist before
  moved: { path: string; master: string }[]; // directories now in a master copy
  created: { path: string; master: string }[]; // linked paths that did not exist
  editedFiles: string[]; // originals saved under ORIG_DIR
  createdFiles: string[]; // files that did not exist (removed on uninstall)
  // The globs of the volatile list (/var/spool/*): VOLATILE in roroot.conf
  // holds them expanded, and `roroot rw` expands them again to catch a
  // directory a package added.
  volatileGlobs?: string[];
  divertedLogin?: boolean; // /bin/login is roroot's wrapper over a dpkg-divert
}

export function readManifest(root: string): Manifest | null {
  try {
    return JSON.parse(readFileSync(hostPath(root, MANIFEST), 'utf8')) as Manifest;
  } catch {
    return null;
  }
}

export function writeManifest(root: string, m: Manifest) {
  const file = hostPath(root, MANIFEST);
  writeFileSync(`${file}.tmp`, JSON.stringify(m, null, 1) + '\n');
  renameSync(`${file}.tmp`, file);
}
