import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { findDevice, parseBlkidExport } from '../../init/sys/blkid';

const t = suite('sys/blkid');
// As util-linux 2.38 prints it; a partition with garbage has only its table entry.
const TEXT = `DEVNAME=/dev/vda1
LABEL=root
UUID=5b1c0e7e-0000-4000-8000-000000000001
BLOCK_SIZE=4096
TYPE=ext4
PARTUUID=c0ffee00-01

DEVNAME=/dev/vda2
PARTUUID=c0ffee00-02

DEVNAME=/dev/vdb1
LABEL=my\\ label
TYPE=ext2
PARTUUID=0badf00d-01
`;

t('blocks per device, escaped values', () => {
  const d = parseBlkidExport(TEXT);
  assert.is(d.length, 3);
  assert.is(d[2].LABEL, 'my label');
});

t('LABEL=, UUID= (any case), PARTUUID=; none found is null', () => {
  const d = parseBlkidExport(TEXT);
  assert.is(findDevice(d, 'LABEL=root'), '/dev/vda1');
  assert.is(findDevice(d, 'UUID=5B1C0E7E-0000-4000-8000-000000000001'), '/dev/vda1');
  assert.is(findDevice(d, 'PARTUUID=c0ffee00-02'), '/dev/vda2', 'found by the partition table even when the filesystem is garbage');
  assert.is(findDevice(d, 'LABEL=my label'), '/dev/vdb1');
  assert.is(findDevice(d, 'LABEL=Root'), null, 'labels are case-sensitive');
  assert.is(findDevice(d, 'LABEL=missing'), null);
  assert.equal(parseBlkidExport(''), []);
});

t.run();
