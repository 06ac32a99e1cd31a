import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { copyTree, UnsafeCopyError } from '../../init/sys/tree-copy';

const t = suite('sys/tree-copy');
let dir: string;
t.before.each(() => {
  dir = mkdtempSync(join(tmpdir(), 'roroot-copy-'));
});
t.after.each(() => rmSync(dir, { recursive: true, force: true }));

const refused = (f: () => void, re: RegExp) => {
  try {
    f();
  } catch (err) {
    assert.instance(err, UnsafeCopyError);
    assert.match((err as Error).message, re);
    return;
  }
  assert.unreachable('copied');
};

t('never into itself: /var copied into a state below /var would copy until ENAMETOOLONG', () => {
  mkdirSync(join(dir, 'var/lib/state'), { recursive: true });
  refused(() => copyTree(join(dir, 'var'), join(dir, 'var/lib/state/var'), 'all'), /refusing to copy \S+\/var into itself/);
  assert.equal(readdirSync(join(dir, 'var/lib/state')), []);
});

t('onto a store shared by many routers: a file only root may read is not copied (unless allowed), and nothing is half-copied', () => {
  mkdirSync(join(dir, 'ssh'));
  writeFileSync(join(dir, 'ssh/sshd_config'), 'x');
  writeFileSync(join(dir, 'ssh/ssh_host_ed25519_key'), 'secret');
  chmodSync(join(dir, 'ssh/ssh_host_ed25519_key'), 0o600);
  const dev = lstatSync(dir).dev;
  refused(() => copyTree(join(dir, 'ssh'), join(dir, 'shared'), 'all', { dev, shared: true, shareSecrets: false }), /ssh_host_ed25519_key \(mode 600\) onto a server other routers share \(STATE_SHARE_SECRETS=yes allows it\)/);
  assert.equal(readdirSync(dir).sort(), ['ssh'], 'nothing written');
  copyTree(join(dir, 'ssh'), join(dir, 'local'), 'all', { dev, shared: false, shareSecrets: false });
  copyTree(join(dir, 'ssh'), join(dir, 'allowed'), 'all', { dev, shared: true, shareSecrets: true });
  assert.equal(readdirSync(join(dir, 'allowed')).sort(), ['ssh_host_ed25519_key', 'sshd_config']);
});

t('onto a store: only files, directories and symlinks, from one filesystem', () => {
  mkdirSync(join(dir, 'x'));
  symlinkSync('/etc/passwd', join(dir, 'x/link'));
  const dev = lstatSync(dir).dev;
  copyTree(join(dir, 'x'), join(dir, 'y'), 'all', { dev, shared: false, shareSecrets: false });
  assert.ok(lstatSync(join(dir, 'y/link')).isSymbolicLink(), 'a symlink is copied as a symlink, never followed');
  refused(() => copyTree(join(dir, 'x'), join(dir, 'z'), 'all', { dev: dev + 1, shared: false, shareSecrets: false }), /is on another filesystem/);
});

// What a restore must keep, in a new tree and over an old one: modes with
// setuid and setgid (which chown clears after the copy's create set them),
// owners, modification times, symlinks as symlinks; and a symlink where a
// file goes is replaced, not written through.
t('modes with setuid and setgid, owners, times and symlinks, into a new tree and over an old one', () => {
  const src = join(dir, 'src');
  mkdirSync(join(src, 'sub'), { recursive: true });
  const objects: [string, number][] = [['suid', 0o4755], ['sgid', 0o2711], ['plain', 0o640], ['sub/inner', 0o600]];
  for (const [rel] of objects) writeFileSync(join(src, rel), rel);
  symlinkSync('plain', join(src, 'link'));
  // Owned by a user and group other than root's where the test may (root).
  const [uid, gid] = process.getuid?.() === 0 ? [1234, 5678] : [process.getuid?.() ?? 0, process.getgid?.() ?? 0];
  for (const [rel] of objects) chownSync(join(src, rel), uid, gid);
  for (const [rel, mode] of objects) chmodSync(join(src, rel), mode);
  chmodSync(join(src, 'sub'), 0o2750);
  for (const [rel] of [...objects, ['sub']]) utimesSync(join(src, rel as string), 1_000_000, 1_000_000);
  const old = join(dir, 'old');
  mkdirSync(old);
  writeFileSync(join(dir, 'elsewhere'), 'untouched');
  symlinkSync(join(dir, 'elsewhere'), join(old, 'plain'));
  for (const dst of [join(dir, 'new'), old]) {
    copyTree(src, dst, 'all');
    for (const rel of ['suid', 'sgid', 'plain', 'sub/inner', 'sub']) {
      const [a, b] = [lstatSync(join(src, rel)), lstatSync(join(dst, rel))];
      assert.is((b.mode & 0o7777).toString(8), (a.mode & 0o7777).toString(8), `${dst}/${rel}: mode`);
      assert.equal([b.uid, b.gid, b.mtimeMs], [a.uid, a.gid, a.mtimeMs], `${dst}/${rel}: owner and time`);
    }
    assert.is(readlinkSync(join(dst, 'link')), 'plain');
    assert.is(readFileSync(join(dst, 'plain'), 'utf8'), 'plain');
  }
  assert.ok(!lstatSync(join(old, 'plain')).isSymbolicLink(), 'the symlink in the old tree replaced');
  assert.is(readFileSync(join(dir, 'elsewhere'), 'utf8'), 'untouched', 'nothing written through it');
});

t.run();
