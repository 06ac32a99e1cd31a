import { childProcess } from '../sys/child';
import { readlinkSync, symlinkSync, unlinkSync } from 'node:fs';
import { LIB_DIR } from '../config/own-paths';
import { hostPath } from '../sys/root-path';
import { lstatOrNull } from '../sys/tree-copy';
import type { Manifest } from './manifest';

// Static /dev (DEVTMPFS=no): the tty nodes are on the read-only root, and a
// login that treats EROFS from chown/chmod of its tty as fatal refuses
// everyone. The distribution's login is diverted (dpkg-divert --rename, so
// that upgrades of the login package land on the diverted name) and
// /bin/login becomes roroot's wrapper, which runs it with the EROFS shim.

export const LOGIN = '/bin/login';
export const REAL_LOGIN = '/bin/login.roroot-real';
export const LOGIN_WRAPPER = `${LIB_DIR}/login`;

function dpkgDivert(root: string, args: string[]): string | null {
  const r = childProcess().spawnSync('dpkg-divert', [...(root === '/' ? [] : ['--root', root]), '--package', 'roroot', '--rename', ...args], { encoding: 'utf8' });
  if (r.error) return `dpkg-divert: ${(r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found (not a Debian system?)' : r.error.message}`;
  return r.status === 0 ? null : `dpkg-divert ${args.join(' ')}: ${(r.stderr || r.stdout).trim().split('\n').pop()}`;
}

export function divertLogin(root: string, manifest: Manifest, say: (l: string) => void) {
  const host = (p: string) => hostPath(root, p);
  const current = lstatOrNull(host(LOGIN));
  if (current?.isSymbolicLink() && readlinkSync(host(LOGIN)) === LOGIN_WRAPPER) return;
  if (!lstatOrNull(host(LOGIN_WRAPPER))) {
    say(`install: ${LOGIN_WRAPPER} is missing (install the roroot package): ${LOGIN} left as it is`);
    return;
  }
  const failed = dpkgDivert(root, ['--add', '--divert', REAL_LOGIN, LOGIN]);
  if (failed) {
    say(`install: ${failed}: ${LOGIN} left as it is; logins on a static /dev may fail`);
    return;
  }
  symlinkSync(LOGIN_WRAPPER, host(LOGIN));
  manifest.divertedLogin = true;
  say(`install: ${LOGIN} -> ${LOGIN_WRAPPER} (static /dev: the real login runs with the EROFS shim)`);
}

export function undivertLogin(root: string, manifest: Manifest, say: (l: string) => void) {
  if (!manifest.divertedLogin) return;
  const host = (p: string) => hostPath(root, p);
  if (lstatOrNull(host(LOGIN))?.isSymbolicLink()) unlinkSync(host(LOGIN));
  const failed = dpkgDivert(root, ['--remove', LOGIN]);
  say(failed ? `uninstall: ${failed}` : `uninstall: ${LOGIN} restored`);
}
