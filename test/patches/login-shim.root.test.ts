import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_CACHE, rootfsTarball } from '../../board/rootfs';
import { inNamespace } from '../support/namespace';

// The login EROFS shim, on real ptys: in a private mount namespace a
// read-only devpts instance (mounted over /dev/pts, its ptmx over
// /dev/ptmx) hands out ptys whose chown/chmod fail with EROFS, as on a
// router with static /dev on the read-only root. Programs run on those ptys
// through node-pty.

const t = suite('patches/login-erofs-shim (root)');
const REPO = resolve(__dirname, '../../..');
const SHIM = join(REPO, 'build/patches/login-erofs-shim.so');
let dir: string;
let oldLogin: string;

t.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'roroot-shim-'));
  oldLogin = join(dir, 'old-login');
  execFileSync('gcc', ['-O2', '-Wall', '-o', oldLogin, join(REPO, 'test/patches/old-login.c')]);
  // Runs argv on a new pty (node-pty) and prints what it printed, then its
  // exit code. PTY_INPUT, if set, is typed at the first shell prompt.
  writeFileSync(
    join(dir, 'pty-run.js'),
    `const pty = require(${JSON.stringify(join(REPO, 'node_modules/node-pty'))});
const [cmd, ...args] = JSON.parse(process.env.PTY_ARGV);
const p = pty.spawn(cmd, args, { env: { PATH: process.env.PATH, TERM: 'dumb', ...JSON.parse(process.env.PTY_ENV) } });
let out = '';
let typed = !process.env.PTY_INPUT;
p.onData((d) => {
  out += d;
  if (!typed && /[#$] $/.test(out)) { typed = true; p.write(process.env.PTY_INPUT); }
});
setTimeout(() => { process.stdout.write(out + 'TIMEOUT\\n'); process.exit(0); }, 60000);
p.onExit(({ exitCode }) => { process.stdout.write(out.replace(/\\r/g, '') + 'EXIT=' + exitCode + '\\n'); process.exit(0); });
`,
  );
});
t.after(() => rmSync(dir, { recursive: true, force: true }));

// devpts mode: the mode new ptys get (0620: group-writable for write(1), not readable).
// `before`: shell run first in the same namespace.
// devptsUid: who new ptys belong to (devpts uid=), as if another user's.
function onPty(argv: string[], opts: { preload: boolean; devptsMode?: string; devptsUid?: number; readOnly?: boolean; input?: string; before?: string }): string {
  const ro = opts.readOnly === false ? '' : 'ro,';
  const uid = opts.devptsUid === undefined ? '' : `,uid=${opts.devptsUid}`;
  const r = inNamespace(
    `mount -t devpts -o ${ro}newinstance,ptmxmode=0666,mode=${opts.devptsMode ?? '0620'},gid=5${uid} devpts /dev/pts
mount --bind /dev/pts/ptmx /dev/ptmx
${opts.before ?? ''}
node ${dir}/pty-run.js`,
    { PTY_ARGV: JSON.stringify(argv), PTY_ENV: JSON.stringify(opts.preload ? { LD_PRELOAD: SHIM } : {}), ...(opts.input ? { PTY_INPUT: opts.input } : {}) },
  );
  return r.stdout + r.stderr;
}

t('the old fatal login (stand-in) refuses on a read-only /dev/pts without the shim, and logs in with it', () => {
  for (const how of ['path', 'fd']) {
    assert.match(onPty([oldLogin, how], { preload: false }), /login: chown of the tty: Read-only file system\nEXIT=1/, how);
    assert.match(onPty([oldLogin, how], { preload: true }), /LOGIN-OK LD_PRELOAD=\(unset\)\nEXIT=0/, `${how}: passes, and LD_PRELOAD is gone from the environment`);
  }
});

t("the image's own login reaches a shell on a read-only /dev/pts, directly and through roroot's wrapper with the shim", () => {
  const tree = join(dir, 'rootfs');
  mkdirSync(tree);
  execFileSync('tar', ['-C', tree, '--numeric-owner', '-xpf', rootfsTarball(DEFAULT_CACHE, () => {})]);
  // As the .deb installs them on a static-/dev board, with dpkg-divert's rename.
  mkdirSync(join(tree, 'usr/lib/roroot'), { recursive: true });
  copyFileSync(SHIM, join(tree, 'usr/lib/roroot/login-erofs-shim.so'));
  copyFileSync(join(REPO, 'patches/login-wrapper.sh'), join(tree, 'usr/lib/roroot/login'));
  chmodSync(join(tree, 'usr/lib/roroot/login'), 0o755);
  copyFileSync(join(tree, 'usr/bin/login'), join(tree, 'usr/bin/login.roroot-real'));
  chmodSync(join(tree, 'usr/bin/login.roroot-real'), 0o755);
  // The tree sees this namespace's /dev, read-only devpts included; login -f: no password.
  const before = `mount --rbind /dev ${tree}/dev; mount -t proc proc ${tree}/proc`;
  const input = 'echo "LOGGED-IN as $(id -un) on $(tty) LD_PRELOAD=${LD_PRELOAD:-unset}"; exit\r';
  for (const login of ['/bin/login', '/usr/lib/roroot/login']) {
    const out = onPty(['chroot', tree, login, '-f', 'root'], { preload: false, before, input });
    assert.match(out, /LOGGED-IN as root on \/dev\/pts\/\d+ LD_PRELOAD=unset\r?\n[^]*EXIT=0/, `${login}:\n${out}`);
  }
});

t('EROFS on a tty readable by group or others is not hidden', () => {
  assert.match(onPty([oldLogin, 'path'], { preload: true, devptsMode: '0644' }), /login: chown of the tty: Read-only file system\nEXIT=1/);
});

t("EROFS on a tty still owned by another user is not hidden: it stays that user's (OpenSSH's rule for chown)", () => {
  assert.match(onPty([oldLogin, 'path'], { preload: true, devptsUid: 1000 }), /login: chown of the tty: Read-only file system\nEXIT=1/);
  assert.match(onPty([oldLogin, 'fd'], { preload: true, devptsUid: 1000 }), /login: chown of the tty: Read-only file system\nEXIT=1/);
});

t('EROFS on a file that is not a tty is not hidden', () => {
  const file = join(dir, 'plain');
  writeFileSync(file, 'x');
  // (sh -e: each failure is caught and its code printed)
  const r = inNamespace(
    `mount --bind ${dir} ${dir}; mount -o remount,bind,ro ${dir}
LD_PRELOAD=${SHIM} chmod 600 ${file} 2>&1 && echo rc=0 || echo "rc=$?"
LD_PRELOAD=${SHIM} chown 1:1 ${file} 2>&1 && echo rc=0 || echo "rc=$?"`,
  );
  assert.match(r.stdout, /chmod: changing permissions of '.*plain': Read-only file system\nrc=1\nchown: changing ownership of '.*plain': Read-only file system\nrc=1/);
});

t('EPERM on a tty is not hidden', () => {
  // nobody may not chown a tty; devpts read-write, so the error is EPERM.
  const out = onPty(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--', oldLogin, 'path'], { preload: true, readOnly: false });
  assert.match(out, /login: chown of the tty: Operation not permitted\nEXIT=1/);
});

t.run();
