import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { probeModules } from '../../init/sys/modules-probe';

// The probe on a real tree (no root needed): a module directory laid out as
// Debian's, with build/ a symlink to headers that must not be followed.

const t = suite('sys/modules-probe');
const R = '6.1.0-56-amd64';
let root: string;
let dir: string;

const at = (path: string, seconds: number) => utimesSync(join(dir, path), seconds, seconds);
const file = (path: string, seconds: number, text = 'x') => {
  mkdirSync(join(dir, path, '..'), { recursive: true });
  writeFileSync(join(dir, path), text);
  at(path, seconds);
};

t.before.each(() => {
  root = mkdtempSync(join(tmpdir(), 'roroot-modprobe-'));
  dir = join(root, 'usr/lib/modules', R);
  mkdirSync(join(root, 'lib'), { recursive: true });
  rmSync(join(root, 'lib'), { recursive: true });
  symlinkSync('usr/lib', join(root, 'lib')); // merged /usr, as bookworm
  file('kernel/fs/fat/vfat.ko', 1000);
  file('kernel/drivers/net/virtio_net.ko.xz', 1000);
  file('modules.order', 1000);
  file('modules.dep', 2000, 'kernel/fs/fat/vfat.ko:\n');
  mkdirSync(join(root, 'usr/src/headers'), { recursive: true });
  writeFileSync(join(root, 'usr/src/headers/newer.ko'), 'x'); // now: newer than all
  symlinkSync('/usr/src/headers', join(dir, 'build'));
});
t.after.each(() => rmSync(root, { recursive: true, force: true }));

t('current: nothing newer (build/ is not followed)', async () => {
  const f = await probeModules(root, R);
  assert.equal(f, { release: R, dir: `/usr/lib/modules/${R}`, exists: true, dep: { size: 23 }, newer: null, error: null });
});

t('a module touched, or modules.order, after modules.dep: named', async () => {
  at('kernel/drivers/net/virtio_net.ko.xz', 3000);
  assert.is((await probeModules(root, R)).newer, `/usr/lib/modules/${R}/kernel/drivers/net/virtio_net.ko.xz`);
  at('kernel/drivers/net/virtio_net.ko.xz', 1000);
  at('modules.order', 3000);
  assert.is((await probeModules(root, R)).newer, `/usr/lib/modules/${R}/modules.order`);
  // a file depmod writes is not an input
  file('modules.alias', 3000);
  at('modules.order', 1000);
  assert.is((await probeModules(root, R)).newer, null);
});

t('empty modules.dep: any input makes it stale; missing: no find at all', async () => {
  file('modules.dep', 2000, '');
  const f = await probeModules(root, R);
  assert.ok(/(\.ko(\.xz)?|modules\.order)$/.test(f.newer ?? ''), JSON.stringify(f));
  rmSync(join(dir, 'modules.dep'));
  // No find on the PATH: had the probe run one, its error would say so.
  const path = process.env.PATH;
  process.env.PATH = '/nonexistent';
  try {
    assert.equal(await probeModules(root, R), { release: R, dir: `/usr/lib/modules/${R}`, exists: true, dep: null, newer: null, error: null });
  } finally {
    process.env.PATH = path;
  }
});

t('no module directory: nothing to check', async () => {
  assert.equal(await probeModules(root, '6.9.9-other'), { release: '6.9.9-other', dir: '/lib/modules/6.9.9-other', exists: false, dep: null, newer: null, error: null });
});

t.run();
