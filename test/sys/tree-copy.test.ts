import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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

t.run();
