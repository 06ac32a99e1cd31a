import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Mount } from '../../init/plan/facts';
import { probeRootErrors } from '../../init/sys/root-errors';

const t = suite('sys/root-errors');

const rootMount = (fstype: string): Mount => ({ target: '/', source: '/dev/root', fstype, device: '254:1', options: ['ro'] });

// A sysfs as the kernel lays it out: /sys/dev/block/M:m a relative link to
// the device's directory, ext4's counters under /sys/fs/ext4/NAME.
function sysfs(errors: string | null): string {
  const root = mkdtempSync(join(tmpdir(), 'roroot-root-errors-'));
  mkdirSync(join(root, 'sys/devices/pci0000:00/virtio1/block/vda/vda1'), { recursive: true });
  mkdirSync(join(root, 'sys/dev/block'), { recursive: true });
  symlinkSync('../../devices/pci0000:00/virtio1/block/vda/vda1', join(root, 'sys/dev/block/254:1'));
  if (errors !== null) {
    mkdirSync(join(root, 'sys/fs/ext4/vda1'), { recursive: true });
    writeFileSync(join(root, 'sys/fs/ext4/vda1/errors_count'), errors);
  }
  return root;
}

t('the error count ext4 keeps for the root, named by its block device (mountinfo says /dev/root)', () => {
  const root = sysfs('3\n');
  try {
    assert.equal(probeRootErrors(root, rootMount('ext4')), { device: '/dev/vda1', count: 3 });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

t('not known: no counter, not ext4, nothing mounted at /', () => {
  const root = sysfs(null);
  try {
    assert.is(probeRootErrors(root, rootMount('ext4')), null);
    assert.is(probeRootErrors(root, rootMount('xfs')), null);
    assert.is(probeRootErrors(root, undefined), null);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

t.run();
