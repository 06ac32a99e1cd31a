import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { matchSpec, oneDevice } from '../../init/plan/devices';
import { disk, facts } from './fixtures';

const t = suite('plan/devices');
const f = facts({
  blockDevices: [
    disk('/dev/vda1', '254:1', { label: 'root', uuid: '5b1c0e7e-0000-4000-8000-000000000001', partuuid: 'c0ffee00-01' }),
    disk('/dev/vda2', '254:2', { partuuid: 'c0ffee00-02' }),
    disk('/dev/vdb1', '254:17', { label: 'my label', partlabel: 'data', aliases: ['/dev/disk/by-label/my\\x20label'] }),
  ],
});
const paths = (spec: string) => matchSpec(f, spec).map((d) => d.path);

t('LABEL=, UUID= (any case), PARTUUID=, PARTLABEL=, a path or an alias; labels are case-sensitive', () => {
  assert.equal(paths('LABEL=root'), ['/dev/vda1']);
  assert.equal(paths('UUID=5B1C0E7E-0000-4000-8000-000000000001'), ['/dev/vda1']);
  assert.equal(paths('PARTUUID=C0FFEE00-02'), ['/dev/vda2'], 'found by the partition table even when the filesystem is garbage');
  assert.equal(paths('LABEL=my label'), ['/dev/vdb1']);
  assert.equal(paths('PARTLABEL=data'), ['/dev/vdb1']);
  assert.equal(paths('/dev/vda2'), ['/dev/vda2']);
  assert.equal(paths('/dev/disk/by-label/my\\x20label'), ['/dev/vdb1']);
  assert.equal(paths('LABEL=Root'), []);
});

t('one device or why not', () => {
  assert.equal(oneDevice(f, 'LABEL=missing'), { error: 'no such device' });
  const two = facts({ blockDevices: [disk('/dev/a', '1:1', { label: 'x' }), disk('/dev/b', '1:2', { label: 'x' })] });
  assert.equal(oneDevice(two, 'LABEL=x'), { error: 'found on 2 devices (/dev/a, /dev/b): refusing to choose' });
});

t.run();
