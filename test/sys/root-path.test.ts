import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { hostPath, lstatPathInRoot, resolveInRoot } from '../../init/sys/root-path';

const t = suite('sys/root-path');
let root: string;

t.before(() => {
  root = mkdtempSync(join(tmpdir(), 'roroot-path-'));
  mkdirSync(join(root, 'run/lock'), { recursive: true });
  mkdirSync(join(root, 'var'));
  symlinkSync('/run', join(root, 'var/run')); // absolute: means ROOT/run
  symlinkSync('../run/lock', join(root, 'var/lock')); // relative
  symlinkSync('/etc', join(root, 'var/escape')); // this machine's /etc must not be used
  symlinkSync('loop2', join(root, 'loop1'));
  symlinkSync('loop1', join(root, 'loop2'));
  symlinkSync('/nowhere', join(root, 'dangling'));
  writeFileSync(join(root, 'run/lock/f'), '');
});
t.after(() => rmSync(root, { recursive: true, force: true }));

t('absolute and relative links resolve inside the root', () => {
  assert.is(resolveInRoot(root, '/var/run/lock/f'), '/run/lock/f');
  assert.is(resolveInRoot(root, '/var/lock'), '/run/lock');
  assert.is(resolveInRoot(root, '/var/../../../run'), '/run', '.. stops at the root, as in a chroot');
  assert.is(resolveInRoot(root, '/var/escape'), null, "ROOT/etc does not exist; this machine's /etc is not looked at");
});

t('missing, dangling and looping paths are null', () => {
  assert.is(resolveInRoot(root, '/nope'), null);
  assert.is(resolveInRoot(root, '/dangling'), null);
  assert.is(resolveInRoot(root, '/loop1'), null);
});

t('lstat path: parent resolved, last component not followed', () => {
  assert.is(lstatPathInRoot(root, '/var/run'), join(root, 'var/run'));
  assert.is(lstatPathInRoot(root, '/var/run/lock'), join(root, 'run/lock'));
  assert.is(hostPath('/', '/etc'), '/etc');
});

t.run();
