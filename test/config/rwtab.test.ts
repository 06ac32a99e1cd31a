import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isIgnoredRwtabFile, parseRwtab } from '../../init/config/rwtab';

const t = suite('config/rwtab');
const fedora = readFileSync(join(__dirname, '../../../test/fixtures/fedora-rwtab'), 'utf8');

t("every line of Fedora's stock rwtab is read, tabs and spaces alike", () => {
  const r = parseRwtab('/etc/rwtab', fedora);
  assert.is(r.diagnostics.length, 0);
  const expected = fedora
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => l.trim().split(/\s+/));
  assert.equal(
    r.entries.map((e) => [e.mode, e.path]),
    expected,
  );
  assert.ok(r.entries.some((e) => e.path === '/var/lib/chrony' && e.mode === 'empty'), '"empty /var/lib/chrony" (a space, not a tab)');
  assert.is(r.entries.find((e) => e.path === '/var/lib/nfs')?.line, fedora.split('\n').findIndex((l) => l.includes('/var/lib/nfs')) + 1);
});

t('bad lines: unknown type, missing path, extra field, relative path, ..', () => {
  const r = parseRwtab('/etc/rwtab.d/x', 'dir /var/a\nempty\nfiles /a /b\nempty var/tmp\ndirs /var/../etc\nempty /ok\n');
  assert.equal(
    r.diagnostics.map((d) => `${d.file}:${d.line}: ${d.message}`),
    [
      '/etc/rwtab.d/x:1: expected "empty", "dirs" or "files" then a path, got "dir /var/a"',
      '/etc/rwtab.d/x:2: "empty" needs a path',
      '/etc/rwtab.d/x:3: expected one path after "files", got "/a /b"',
      '/etc/rwtab.d/x:4: path "var/tmp" must be absolute',
      '/etc/rwtab.d/x:5: path "/var/../etc" must not contain ".."',
    ],
  );
  assert.equal(r.entries.map((e) => e.path), ['/ok']);
});

t('comments are skipped', () => {
  assert.is(parseRwtab('f', '# files /etc/x\n  #dirs /a\n').entries.length, 0);
});

t("rc.sysinit's ignored file names", () => {
  for (const n of ['a~', 'a.bak', 'a.orig', 'a.rpmnew', 'a.rpmorig', 'a.rpmsave', 'a.dpkg-old']) assert.ok(isIgnoredRwtabFile(n), n);
  for (const n of ['nfs', 'a.conf', 'backup']) assert.not.ok(isIgnoredRwtabFile(n), n);
});

t.run();
