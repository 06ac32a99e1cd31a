import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { hostPath, lstatPathInRoot, resolveInRoot, resolveLenient, StatCache } from '../../init/sys/root-path';

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

t('one look at a tree: with one cache each path is asked once, and resolves as when asked alone', () => {
  const cache = new StatCache();
  for (const p of ['/var/run/lock/f', '/var/lock', '/var/escape', '/nope/deeper', '/dangling', '/loop1', '/var/run']) {
    assert.is(resolveInRoot(root, p, cache), resolveInRoot(root, p), p);
    assert.is(resolveLenient(root, p, cache), resolveLenient(root, p), p);
    assert.is(lstatPathInRoot(root, p, cache), lstatPathInRoot(root, p), p);
  }
  // A probe's answers are what it saw: a change after it is the next probe's.
  writeFileSync(join(root, 'nope'), '');
  try {
    assert.is(resolveInRoot(root, '/nope', cache), null, 'asked once: still missing for this look');
    assert.is(resolveInRoot(root, '/nope', new StatCache()), '/nope', 'a new look sees it');
  } finally {
    rmSync(join(root, 'nope'));
  }
});

t.run();
