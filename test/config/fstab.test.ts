import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mountOptionsOf, parseFstab } from '../../init/config/fstab';

const t = suite('config/fstab');

t('fields, defaults and octal escapes', () => {
  const r = parseFstab('/etc/fstab', '# c\nLABEL=rw /var/lib/roroot/volatile ext4 noauto,nodev 0 0\nUUID=1 /my\\040dir xfs\n');
  assert.is(r.diagnostics.length, 0);
  assert.equal(r.entries[0], { spec: 'LABEL=rw', file: '/var/lib/roroot/volatile', vfstype: 'ext4', options: ['noauto', 'nodev'], line: 2 });
  assert.is(r.entries[1].file, '/my dir');
  assert.equal(r.entries[1].options, ['defaults']);
});

t('a line with too few or too many fields is reported and skipped', () => {
  const r = parseFstab('/etc/fstab', '/dev/sda1 /\n/dev/a /b ext4 d 0 0 x\n/dev/c /d ext4\n');
  assert.equal(r.diagnostics.map((d) => d.line), [1, 2]);
  assert.match(r.diagnostics[0].message, /expected "spec file vfstype/);
  assert.equal(r.entries.map((e) => e.spec), ['/dev/c']);
});

t('options for mount(8) drop what only steers mount -a', () => {
  assert.equal(mountOptionsOf({ spec: '', file: '', vfstype: '', options: ['defaults', 'noauto', 'nofail', 'noatime', 'size=10m'], line: 1 }), ['noatime', 'size=10m']);
});

t.run();
