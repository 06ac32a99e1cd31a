import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { chooseModules, moduleName } from '../../board/kernel-modules';

// Which modules a router image keeps, from a kernel's modules.dep.

const t = suite('board/kernel-modules');

const DEP = [
  'kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko kernel/fs/mbcache.ko kernel/fs/jbd2/jbd2.ko',
  'kernel/lib/crc16.ko:',
  'kernel/fs/mbcache.ko:',
  'kernel/fs/jbd2/jbd2.ko:',
  'kernel/drivers/net/ethernet/intel/igb/igb.ko: kernel/drivers/dca/dca.ko kernel/drivers/ptp/ptp.ko',
  'kernel/drivers/ptp/ptp.ko: kernel/drivers/pps/pps_core.ko',
  'kernel/drivers/pps/pps_core.ko:',
  'kernel/drivers/dca/dca.ko:',
  'kernel/drivers/gpu/drm/drm.ko:',
  'kernel/drivers/net/ethernet/realtek/8139too.ko: kernel/drivers/net/mii.ko',
  'kernel/drivers/net/mii.ko:',
  'kernel/drivers/ata/ata_piix.ko: kernel/drivers/ata/libata.ko',
  'kernel/drivers/ata/libata.ko:',
  '',
].join('\n');
const BUILTIN = 'kernel/drivers/block/virtio_blk.ko\nkernel/fs/fat/vfat.ko\n';

t('a directory keeps every module under it and what they need; nothing else', () => {
  const { keep, problems } = chooseModules(DEP, BUILTIN, ['drivers/net/ethernet/intel'], []);
  assert.equal(problems, []);
  assert.equal([...keep].sort(), ['kernel/drivers/dca/dca.ko', 'kernel/drivers/net/ethernet/intel/igb/igb.ko', 'kernel/drivers/pps/pps_core.ko', 'kernel/drivers/ptp/ptp.ko']);
});

t('dependencies are followed even where modules.dep does not list them all', () => {
  // pps_core is ptp's, not in igb's own line here.
  const dep = DEP.replace('igb.ko: kernel/drivers/dca/dca.ko kernel/drivers/ptp/ptp.ko', 'igb.ko: kernel/drivers/ptp/ptp.ko');
  assert.ok(chooseModules(dep, BUILTIN, ['drivers/net/ethernet/intel/igb'], []).keep.has('kernel/drivers/pps/pps_core.ko'));
});

t('a file entry is one module; a directory is not a prefix of another name', () => {
  const { keep, problems } = chooseModules(DEP, BUILTIN, ['fs/mbcache.ko', 'drivers/at'], []);
  assert.equal([...keep], ['kernel/fs/mbcache.ko']);
  assert.equal(problems, ['drivers/at: no module there']);
});

t('board module names: - and _ alike, built-in names need nothing, unknown ones are reported', () => {
  const { keep, problems } = chooseModules(DEP, BUILTIN, ['drivers/nowhere'], ['ata-piix', 'ext4', 'virtio_blk', '8139too', 'e1000']);
  assert.equal([...keep].sort(), ['kernel/drivers/ata/ata_piix.ko', 'kernel/drivers/ata/libata.ko', 'kernel/drivers/net/ethernet/realtek/8139too.ko', 'kernel/drivers/net/mii.ko', 'kernel/fs/ext4/ext4.ko', 'kernel/fs/jbd2/jbd2.ko', 'kernel/fs/mbcache.ko', 'kernel/lib/crc16.ko']);
  assert.equal(problems, ['drivers/nowhere: no module there', 'e1000: no such module']);
});

t('module names as modprobe has them', () => {
  assert.is(moduleName('kernel/arch/x86/crypto/crc32c-intel.ko'), 'crc32c_intel');
  assert.is(moduleName('kernel/fs/fat/vfat.ko.xz'), 'vfat');
});

t.run();
