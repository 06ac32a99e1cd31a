import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readOnlyOptions, withInit } from '../../init/install/conversion';
import { conversion as planConversion } from '../../init/places/link-into';
import { dir, file, link, missing } from '../plan/fixtures';

const t = suite('install/conversion');
const RW = '/var/lib/roroot/volatile';

t('a directory moves; a missing one is created; the right link is left; anything else is skipped', () => {
  assert.equal(planConversion('/var/log', dir('/var/log'), RW), { kind: 'move', path: '/var/log' });
  assert.equal(planConversion('/var/lib/dhcp', missing, RW), { kind: 'create', path: '/var/lib/dhcp' });
  assert.equal(planConversion('/tmp', link(`${RW}/tmp`, `${RW}/tmp`), RW), { kind: 'already', path: '/tmp' });
  assert.equal(planConversion('/var/run', link('/run', '/run'), RW), { kind: 'skip', path: '/var/run', why: 'already a symlink to /run' });
  assert.equal(planConversion('/var/x', file('/var/x'), RW), { kind: 'skip', path: '/var/x', why: 'is a file, not a directory' });
});

t('/ in fstab becomes ro', () => {
  assert.equal(readOnlyOptions(['errors=remount-ro']), ['ro', 'errors=remount-ro']);
  assert.equal(readOnlyOptions(['defaults']), ['defaults', 'ro']);
  assert.equal(readOnlyOptions(['rw', 'noatime']), ['ro', 'noatime']);
  assert.is(readOnlyOptions(['ro', 'noatime']), null);
});

t('init=/sbin/roroot-init added once', () => {
  assert.is(withInit('root=/dev/vda1 ro console=ttyS0'), 'root=/dev/vda1 ro console=ttyS0 init=/sbin/roroot-init');
  assert.is(withInit('quiet init=/bin/sh'), null, 'an admin-chosen init is kept');
  assert.is(withInit(''), 'init=/sbin/roroot-init');
});

t.run();
