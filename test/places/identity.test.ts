import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { identityPlaces } from '../../init/places/identity';
import { KINDS } from '../../init/places/place';
import { describe } from '../../init/plan/describe';
import { config, dir, facts, file, link, missing, mount } from '../plan/fixtures';

const t = suite('places/identity');
const RW = '/var/lib/roroot/volatile';
const STATE = '/var/lib/roroot/state';
const c = config({ '/etc/roroot.conf': 'VOLATILE=/var/lib/systemd' });
const paths = {
  ...facts().paths,
  '/etc': dir('/etc'),
  '/etc/machine-id': file('/etc/machine-id'),
  '/usr/sbin/dropbear': file('/usr/sbin/dropbear'),
  '/etc/dropbear': dir('/etc/dropbear'),
  '/var/lib/systemd': link(`${RW}/var/lib/systemd`, `${RW}/var/lib/systemd`),
  '/var/lib/systemd/random-seed': { ...missing, where: `${RW}/var/lib/systemd/random-seed` },
};
const plan = (withState: boolean, over = {}) =>
  KINDS.identity.plan(identityPlaces(), { config: c, facts: facts({ paths: { ...paths, ...over }, mounts: [...facts().mounts, mount(RW, '254:2', 'ext4'), ...(withState ? [mount(STATE, '254:3', 'ext4')] : [])] }) });

t('with a state: each item made there if missing, then all bound over their places in one mount before init', () => {
  const p = plan(true);
  assert.equal(p.warnings, []);
  assert.equal(p.steps.map(describe), [
    `machine-id > ${STATE}/etc/machine-id (if missing)`,
    `nice -n 19 dropbearkey -t ed25519 -f ${STATE}/etc/dropbear/dropbear_ed25519_host_key & nice -n 19 dropbearkey -t ecdsa -f ${STATE}/etc/dropbear/dropbear_ecdsa_host_key & wait`,
    `random-seed > ${STATE}/var/lib/systemd/random-seed (if missing)`,
    `mount -n -a -T ${RW}/.roroot/identity-binds.fstab`,
  ]);
  const batch = p.steps[3];
  assert.ok(batch.kind === 'bind-batch');
  assert.equal(batch.members.map(describe), [
    `mount -n --bind ${STATE}/etc/machine-id /etc/machine-id`,
    `mount -n --bind ${STATE}/etc/dropbear /etc/dropbear`,
    `mount -n --bind ${STATE}/var/lib/systemd/random-seed ${RW}/var/lib/systemd/random-seed`,
  ]);
  assert.ok(batch.members[2].mountPoint === 'file', 'the random seed does not exist yet on the scratch: its mount point is made');
  assert.ok(batch.members.every((s) => s.needs === `${s.id.replace(/:bind$/, '')}`), 'each bind needs its own item made');
});

t('one item alone is bound by its own mount', () => {
  const p = plan(true, { '/usr/sbin/dropbear': missing, '/var/lib/systemd': missing });
  assert.equal(p.steps.map(describe), [`machine-id > ${STATE}/etc/machine-id (if missing)`, `mount -n --bind ${STATE}/etc/machine-id /etc/machine-id`]);
});

t('no scratch mounted (roroot mount-persistent by hand, roroot off): bound one by one, no fstab written where the scratch would be', () => {
  const p = KINDS.identity.plan(identityPlaces(), { config: c, facts: facts({ paths, mounts: [...facts().mounts, mount(STATE, '254:3', 'ext4')] }) });
  assert.ok(p.steps.length > 0 && p.steps.every((s) => s.kind !== 'bind-batch'), p.steps.map(describe).join('\n'));
  assert.ok(p.steps.some((s) => s.kind === 'bind' && describe(s) === `mount -n --bind ${STATE}/etc/machine-id /etc/machine-id`));
});

t('without a state: made on the scratch for this boot, and that is a degraded reason', () => {
  const p = plan(false);
  assert.equal(p.warnings, ['identity: no persistent state, so the identity changes at every boot: the machine id, the SSH host keys, the random seed made anew for this one']);
  const batch = p.steps[3];
  assert.ok(batch.kind === 'bind-batch');
  assert.match(describe(batch.members[0]), new RegExp(`^mount -n --bind ${RW}/\\.roroot/identity/etc/machine-id /etc/machine-id$`));
});

t('the key makers run at the lowest CPU priority, inside the router root: they take the core the boot stage leaves', () => {
  const makers = (root: string, over = {}) =>
    KINDS.identity
      .plan(identityPlaces(), { config: c, facts: facts({ root, paths: { ...paths, ...over }, mounts: [...facts().mounts, mount(STATE, '254:3', 'ext4')] }) })
      .steps.flatMap((s) => (s.kind === 'identity' ? s.argv : []));
  assert.equal(makers('/').map((argv) => argv.slice(0, 4)), [['nice', '-n', '19', 'dropbearkey'], ['nice', '-n', '19', 'dropbearkey']]);
  assert.equal(makers('/mnt/router', { '/usr/sbin/sshd': file('/usr/sbin/sshd'), '/etc/ssh': dir('/etc/ssh') }).map((argv) => argv.slice(0, 6)), [
    ['nice', '-n', '19', 'chroot', '/mnt/router', 'dropbearkey'],
    ['nice', '-n', '19', 'chroot', '/mnt/router', 'dropbearkey'],
    ['nice', '-n', '19', 'chroot', '/mnt/router', 'ssh-keygen'],
  ]);
});

t('an image without /etc/machine-id cannot have one bound: said, not made up', () => {
  const p = plan(true, { '/etc/machine-id': missing });
  assert.ok(p.warnings.includes('identity: /etc/machine-id does not exist on the read-only root (the image must ship it, empty): the machine id not kept'), p.warnings.join('\n'));
});

t.run();
