import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { checkAll, placesOf } from '../../init/places/place';
import { describe } from '../../init/plan/describe';
import { planBoot } from '../../init/plan/plan';
import { config, dir, facts, file, link, mount } from '../plan/fixtures';

const t = suite('places/overlay');
const RW = '/var/lib/roroot/volatile';
const O = `${RW}/.roroot/overlay`;

t('OVERLAY: upper and work on the scratch, the root below; if the mount fails, a copy on the scratch instead', () => {
  const plan = planBoot(config({ '/etc/roroot.conf': 'OVERLAY="/etc/ppp /srv/www"\nRW_LABEL=' }), facts({ overlay: true, paths: { ...facts().paths, '/etc/ppp': dir('/etc/ppp'), '/srv/www': link('/var/www', '/var/www') } }));
  const steps = plan.steps.filter((s) => s.phase === 'overlay');
  assert.equal(steps.map(describe), [
    `mkdir -p ${O}/etc/ppp/upper ${O}/etc/ppp/work`,
    `mount -n -t overlay -o lowerdir=/etc/ppp,upperdir=${O}/etc/ppp/upper,workdir=${O}/etc/ppp/work overlay /etc/ppp`,
    `mkdir -p ${O}/var/www/upper ${O}/var/www/work`,
    `mount -n -t overlay -o lowerdir=/var/www,upperdir=${O}/var/www/upper,workdir=${O}/var/www/work overlay /var/www`,
  ]);
  assert.is(steps[1].needs, 'overlay.dirs:/etc/ppp');
  assert.equal((steps[1].fallback ?? []).map(describe), [`files /etc/ppp; mount -n --bind ${RW}/etc/ppp /etc/ppp`]);
  assert.equal(plan.warnings, []);
});

t('bad input: a precise warning (degraded) and no overlay; no overlayfs in the kernel: the copy, loudly', () => {
  const paths = { ...facts().paths, '/': dir('/'), '/etc/x': file('/etc/x'), '/boot': dir('/boot'), '/var/log': link(`${RW}/var/log`, `${RW}/var/log`), '/var/log/x': dir(`${RW}/var/log/x`), '/var': dir('/var'), '/etc/a': dir('/etc/a'), '/etc/a/b': dir('/etc/a/b') };
  const c = config({ '/etc/roroot.conf': 'RW_LABEL=\nVOLATILE=/var/log\nOVERLAY="/ /nope /etc/x /boot /var/log/x /var /etc/a /etc/a/b"' });
  const plan = planBoot(c, facts({ overlay: true, paths, mounts: [...facts().mounts, mount('/boot', '254:3', 'ext2')] }));
  assert.not.ok(plan.steps.some((s) => s.kind === 'mount' && s.phase === 'overlay' && s.target !== '/etc/a'), plan.steps.map(describe).join('\n'));
  assert.equal(plan.warnings, [
    'OVERLAY: / itself cannot be an overlay (the root is what stays read-only): not made writable',
    'OVERLAY: /nope does not exist: not made writable',
    'OVERLAY: /etc/x is a file, not a directory: not made writable',
    'OVERLAY: /boot is a mount point (ext2 from ext2): not made writable',
    `OVERLAY: /var/log/x lies inside ${RW} (a store): not made writable`,
    `OVERLAY: /var holds ${RW} (a store): not made writable`,
    'OVERLAY: /etc/a/b and the overlay of /etc/a overlap: not made writable',
  ]);
  const noModule = planBoot(config({ '/etc/roroot.conf': 'OVERLAY=/etc/ppp' }), facts({ overlay: false, paths: { ...facts().paths, '/etc/ppp': dir('/etc/ppp') } }));
  assert.equal(noModule.steps.filter((s) => s.phase === 'overlay').map(describe), [`files /etc/ppp; mount -n --bind ${RW}/etc/ppp /etc/ppp`]);
  assert.match(noModule.warnings.find((w) => w.startsWith('overlay:')) ?? '', /^overlay: the kernel has no overlay filesystem \(no overlay module for this kernel\): \/etc\/ppp is copied onto the scratch and bound instead$/);
});

t('status: an overlay in place, its copy (the fallback), or missing', () => {
  const c = config({ '/etc/roroot.conf': 'OVERLAY=/etc/ppp' });
  const f = (m: ReturnType<typeof mount>[]) => facts({ mounts: [...facts().mounts, mount(RW, '254:2', 'ext4'), ...m], paths: { ...facts().paths, '/etc/ppp': dir('/etc/ppp') } });
  const state = (m: ReturnType<typeof mount>[]) => checkAll(placesOf(c), { config: c, facts: f(m) }).map((p) => `${p.state}: ${p.detail}`);
  assert.equal(state([mount('/etc/ppp', '0:40', 'overlay')]), [`in place: overlayfs, upper layer on ${RW}`]);
  assert.equal(state([mount('/etc/ppp', '254:2', 'ext4')]), ['fallback: a copy on the scratch (ext4), not an overlay']);
  assert.equal(state([]), ['missing: not mounted']);
});

t.run();
