import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseMountinfo } from '../../init/sys/mountinfo';

const t = suite('sys/mountinfo');
const TEXT = [
  '22 1 254:1 / / ro,relatime shared:1 - ext4 /dev/vda1 ro',
  '23 22 0:20 / /proc rw,nosuid,nodev,noexec shared:12 - proc proc rw',
  '40 22 259:2 / /var/lib/roroot/volatile rw,nosuid,nodev - ext4 /dev/vda2 rw',
  '41 22 259:2 /etc/resolv.conf /etc/resolv.conf rw - ext4 /dev/vda2 rw',
  '42 22 0:50 / /mnt/my\\040dir rw - tmpfs none rw',
  '50 22 7:0 / /tmp/t/tree ro - ext4 /dev/vda[/tmp/t/tree] ro',
  '51 50 0:60 / /tmp/t/tree/proc rw - proc proc rw',
  '52 22 0:61 / /tmp/t/tree2 rw - tmpfs x rw',
  '53 50 259:2 / /tmp/t/tree/var/lib/roroot/volatile rw - ext4 /tmp/t/tree/dev/loop0p2 rw',
].join('\n');

t('targets, devices, options and types; octal escapes', () => {
  const m = parseMountinfo(TEXT, '/');
  assert.equal(m[2], { target: '/var/lib/roroot/volatile', device: '259:2', options: ['rw', 'nosuid', 'nodev'], fstype: 'ext4', source: '/dev/vda2' });
  assert.is(m[0].options[0], 'ro');
  assert.is(m[4].target, '/mnt/my dir');
});

t('under --root only the tree is the system, as system paths', () => {
  assert.equal(parseMountinfo(TEXT, '/tmp/t/tree').map((m) => m.target), ['/', '/proc', '/var/lib/roroot/volatile']);
  assert.equal(parseMountinfo(TEXT, '/tmp/t/tree/').map((m) => m.target), ['/', '/proc', '/var/lib/roroot/volatile']);
  assert.is(parseMountinfo(TEXT, '/tmp/t/tree')[2].source, '/dev/loop0p2', 'a device named through the tree');
});

t('optional fields of any number before the separator', () => {
  const m = parseMountinfo('1 0 8:1 / /x rw shared:1 master:2 propagate_from:3 - xfs /dev/sda1 rw', '/');
  assert.is(m[0].fstype, 'xfs');
});

t.run();
