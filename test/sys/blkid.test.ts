import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseBlkidExport } from '../../init/sys/blkid';

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

t('nothing found is no device', () => {
  assert.equal(parseBlkidExport(''), []);
  assert.equal(parseBlkidExport(TEXT)[1], { DEVNAME: '/dev/vda2', PARTUUID: 'c0ffee00-02' }, 'a partition with garbage has its table entry');
});

t.run();
