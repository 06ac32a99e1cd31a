import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { inNamespace } from '../support/namespace';
import { BUNDLE } from '../support/router';

// A root filesystem on which ext4 has recorded errors (debugfs sets the
// superblock's count as the kernel would), mounted read-only at a temp dir
// in a private namespace as a router's / is, and `roroot plan --root` over
// it, its sysfs mounted as the boot stage's second round has it: the
// kernel's count is the plan's warning.

const t = suite('sys/root-errors (root, loop device)');

function planOver(errors: number): { code: number; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'roroot-root-errors-'));
  try {
    for (const d of ['etc', 'sys']) mkdirSync(join(dir, 'tree', d), { recursive: true });
    writeFileSync(join(dir, 'tree/etc/roroot.conf'), 'READONLY=yes\nRW_LABEL=\nSTATE_LABEL=\n');
    const image = join(dir, 'root.img');
    const r = inNamespace(`truncate -s 16M ${image}
mkfs.ext4 -q -F -d ${dir}/tree ${image}
debugfs -w -R "ssv error_count ${errors}" ${image} 2>/dev/null
l=$(losetup --find --show ${image})
trap 'umount -R ${dir}/root 2>/dev/null; losetup -d $l' EXIT
mkdir ${dir}/root; mount -o ro $l ${dir}/root; mount -t sysfs sysfs ${dir}/root/sys
echo "=== device $l"
node ${BUNDLE} plan --root ${dir}/root 2>&1 || true`);
    return { code: r.code, out: r.stdout + r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

t('errors ext4 recorded on the root: a warning of the plan that names the device; none without', () => {
  const bad = planOver(2);
  assert.is(bad.code, 0, bad.out);
  const device = /=== device (\/dev\/loop\d+)/.exec(bad.out)?.[1];
  assert.ok(device, bad.out);
  assert.ok(bad.out.includes(`/: ext4 has recorded 2 errors on ${device}: check it with e2fsck -f from a maintenance boot`), bad.out);
  const good = planOver(0);
  assert.is(good.code, 0, good.out);
  assert.not.match(good.out, /ext4 has recorded/);
});

t.run();
