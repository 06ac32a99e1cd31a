import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseStateList } from '../../init/config/state-list';
import { describe } from '../../init/plan/describe';
import { planBoot, planStateFiles } from '../../init/plan/plan';
import type { Step } from '../../init/plan/steps';
import { config, dir, disk, facts, link, mount } from './fixtures';

const t = suite('plan/state');
const STATE = '/var/lib/roroot/state';
const chain = (first: Step | undefined) => {
  const out: string[] = [];
  for (let s = first; s; s = s.fallbackWhen ? undefined : s.fallback?.[0]) out.push(describe(s));
  return out;
};

t('fstab, then STATE_LABEL, then NFS CLIENTSTATE/HOSTNAME, each the fallback of the one before; stores are mounted as data', () => {
  const files = {
    '/etc/fstab': `/dev/vdb1 ${STATE} ext4 noatime,suid 0 2\n`,
    '/etc/roroot.conf': 'CLIENTSTATE=10.0.2.100:/export/clients\nSTATE_LABEL=keep\nNFS_TIMEOUT=7\nSTATE_OPTIONS=exec',
  };
  const plan = planBoot(config(files), facts({ blockDevices: [disk('/dev/vdb1', '254:17'), disk('/dev/vdc1', '254:33', { label: 'keep' })], kernelHostname: 'r1' }));
  const state = plan.steps.filter((s) => s.phase === 'state');
  assert.is(state.length, 1);
  assert.equal(chain(state[0]), [
    `mount -n -t ext4 -o noatime,nosuid,nodev,noexec /dev/vdb1 ${STATE}`,
    `mount -n -o nosuid,nodev,noexec /dev/vdc1 ${STATE}`,
    `mount -n -t nfs -o rw,nolock,retry=0,nosuid,nodev,noexec 10.0.2.100:/export/clients/r1 ${STATE}`,
  ]);
  const nfs = state[0].fallback?.[0].fallback?.[0];
  assert.ok(nfs && nfs.kind === 'nfs' && nfs.timeoutSec === 7 && nfs.retry);
});

t('a new router enrols: planned steps, taken only when the server says the directory does not exist', () => {
  const plan = planBoot(config({ '/etc/roroot.conf': 'CLIENTSTATE=10.0.2.100:/export/clients\nSTATE_LABEL=' }), facts({ kernelHostname: 'r1' }));
  const nfs = plan.steps.find((s) => s.id === 'state.nfs');
  assert.is(nfs?.fallbackWhen, 'No such file or directory');
  assert.equal((nfs?.fallback ?? []).map((s) => `${s.id}: ${describe(s)}${s.needs ? ` (needs ${s.needs})` : ''}`), [
    'state.enrol.mount: mount -n -t nfs -o rw,nolock,retry=0,nosuid,nodev,noexec 10.0.2.100:/export/clients /var/lib/roroot/volatile/.roroot/enrol',
    'state.enrol: mkdir /var/lib/roroot/volatile/.roroot/enrol/r1; cp -n /var/lib/roroot/volatile/.roroot/enrol/files /var/lib/roroot/volatile/.roroot/enrol/r1/files (needs state.enrol.mount)',
    'state.enrol.umount: umount -n /var/lib/roroot/volatile/.roroot/enrol (needs state.enrol.mount)',
    'state.nfs.enrolled: mount -n -t nfs -o rw,nolock,retry=0,nosuid,nodev,noexec 10.0.2.100:/export/clients/r1 /var/lib/roroot/state (needs state.enrol)',
  ]);
});

t('state over NFS uses the hostname planned from the address; an NFS fstab entry is an nfs step', () => {
  const plan = planBoot(config({ '/etc/roroot.conf': 'CLIENTSTATE=srv:/clients' }), facts({ kernelHostname: 'localhost', etcHostname: null, addresses: ['10.0.3.15'] }));
  assert.equal(chain(plan.steps.find((s) => s.phase === 'state')), [`mount -n -t nfs -o rw,nolock,retry=0,nosuid,nodev,noexec srv:/clients/ip-10-0-3-15 ${STATE}`]);
  const fromFstab = planBoot(config({ '/etc/fstab': `srv:/x ${STATE} nfs4 soft,ro 0 0\n` }), facts());
  const fstabState = fromFstab.steps.filter((s) => s.phase === 'state');
  assert.equal(fstabState.map(describe), [`mount -n -t nfs -o nolock,retry=0,soft,ro,nosuid,nodev,noexec srv:/x ${STATE}`]);
  assert.not.ok(fstabState[0].fallback, 'an fstab export names one directory: nothing to enrol');
});

t('a host name that is not RFC 1123 (DHCP or reverse DNS saying ../../etc) never becomes a path or the hostname', () => {
  const hostile = planBoot(config({ '/etc/roroot.conf': 'CLIENTSTATE=srv:/cs' }), facts({ kernelHostname: 'localhost', etcHostname: null, addresses: ['10.0.2.15'], reverseName: '../../etc' }));
  assert.equal(chain(hostile.steps.find((s) => s.phase === 'state')), [`mount -n -t nfs -o rw,nolock,retry=0,nosuid,nodev,noexec srv:/cs/ip-10-0-2-15 ${STATE}`]);
  assert.is(describe(hostile.steps.find((s) => s.kind === 'hostname') as Step), 'hostname ip-10-0-2-15');
  assert.ok(hostile.warnings.some((w) => w.startsWith('hostname: 10.0.2.15 resolves to a name that is not a host name')), hostile.warnings.join('\n'));
  const kernel = planBoot(config({ '/etc/roroot.conf': 'CLIENTSTATE=srv:/cs' }), facts({ kernelHostname: '../../etc', etcHostname: null, addresses: ['10.0.2.16'] }));
  assert.match(chain(kernel.steps.find((s) => s.phase === 'state'))[0], /srv:\/cs\/ip-10-0-2-16 /, 'an invalid name already set is replaced too');
  assert.ok(kernel.warnings.some((w) => w.startsWith('hostname: "../../etc" is not a host name')));
  const noAddress = planBoot(config({ '/etc/roroot.conf': 'CLIENTSTATE=srv:/cs' }), facts({ kernelHostname: 'bad_name', etcHostname: null }));
  assert.equal(chain(noAddress.steps.find((s) => s.phase === 'state')), [`mount -n -t nfs -o rw,nolock,retry=0,nosuid,nodev,noexec srv:/cs/localhost ${STATE}`], 'no address to name it from: localhost, as the seed says');
});

t('a STATE_LABEL carried by two devices (a stick with our label): neither is mounted, and it says so', () => {
  const plan = planBoot(config({}), facts({ blockDevices: [disk('/dev/vdc1', '254:33', { label: 'roroot-state' }), disk('/dev/sda1', '8:1', { label: 'roroot-state' })] }));
  assert.not.ok(plan.steps.some((s) => s.phase === 'state'));
  assert.ok(plan.warnings.includes('state: STATE_LABEL=roroot-state: found on 2 devices (/dev/vdc1, /dev/sda1): refusing to choose'));
});

t('no state configured: a note, no step', () => {
  const plan = planBoot(config({ '/etc/roroot.conf': 'STATE_LABEL=' }), facts());
  assert.not.ok(plan.steps.some((s) => s.phase === 'state'));
  assert.ok(plan.notes.some((n) => n.startsWith('state: no persistent state')));
});

const list = (text: string) => parseStateList(`${STATE}/files`, text).entries;
const stateMounted = (fstype = 'ext4') => ({ mounts: [...facts().mounts, mount(STATE, '254:33', fstype)] });

t('state files: each listed path bound from the state, copied there first when missing', () => {
  const f = facts({ ...stateMounted(), paths: { '/etc/ssh': dir('/etc/ssh'), '/var/lib/x': link('/srv/x', '/srv/x') } });
  const text = '# keys\n/etc/ssh\n\n/var/lib/x\n/nope\nrelative\n';
  const plan = planStateFiles(config({}), f, list(text), `${STATE}/files`);
  assert.equal(plan.steps.map(describe), [`missing /etc/ssh; mount -n --bind ${STATE}/etc/ssh /etc/ssh`, `missing /srv/x; mount -n --bind ${STATE}/srv/x /srv/x`]);
  assert.ok(plan.notes.includes(`state-files: /nope does not exist on the root, skipped (${STATE}/files:5)`));
  assert.equal(parseStateList(`${STATE}/files`, text).diagnostics.map((d) => `${d.line}: ${d.message}`), ['6: path "relative" must be absolute']);
  const bind = plan.steps[0];
  assert.ok(bind.kind === 'bind' && bind.store?.shared === false, 'a partition is not a shared server');
  const nfs = planStateFiles(config({}), facts({ ...stateMounted('nfs4'), paths: { '/etc/ssh': dir('/etc/ssh') } }), list('/etc/ssh\n'), `${STATE}/files`);
  assert.ok(nfs.steps[0].kind === 'bind' && nfs.steps[0].store?.shared === true && !nfs.steps[0].store.shareSecrets, 'on NFS: shared, no secrets copied there');
});

t("a store's list binds nothing the router's policy denies: each refused line said once, shortened and escaped, as a warning", () => {
  const hostile = ['/etc/shadow', '/sbin/init', '/usr/lib/systemd/systemd', '/etc/roroot.conf', '/etc/ld.so.preload', '/proc', '/var/lib', '/', '/lib64/x', '/etc/sudoers.d', '/var/lib/roroot/volatile/x', '/etc/evil', '/etc/evil'];
  const paths = Object.fromEntries(hostile.map((p) => [p, dir(p)]));
  paths['/etc/evil'] = link('/sbin', '/usr/sbin');
  const plan = planStateFiles(config({}), facts({ ...stateMounted(), paths }), list(hostile.join('\n')), `${STATE}/files`);
  assert.equal(plan.steps, [], plan.steps.map(describe).join('\n'));
  assert.is(plan.warnings.length, hostile.length - 1, 'a line listed twice is said once');
  assert.ok(plan.warnings.includes(`state-files: ${STATE}/files:1: /etc/shadow: refused (/etc/shadow: no store may bind over it)`), plan.warnings.join('\n'));
  assert.ok(plan.warnings.includes(`state-files: ${STATE}/files:7: /var/lib: refused (/var/lib holds /var/lib/roroot: no store may bind over it)`), plan.warnings.join('\n'));
  assert.ok(plan.warnings.includes(`state-files: ${STATE}/files:12: /etc/evil: refused (it resolves to /usr/sbin; /usr/sbin lies under /usr: no store may bind over it)`), plan.warnings.join('\n'));
  const garbage = planStateFiles(config({}), facts({ ...stateMounted(), paths: { ['/x\x1b[2J' + 'y'.repeat(200)]: dir('/x') } }), list('/x\x1b[2J' + 'y'.repeat(200) + '\n'), `${STATE}/files`);
  assert.not.ok(garbage.notes.join('').includes('\x1b'), 'no escape sequence reaches the console');
  assert.ok(garbage.notes.every((n) => n.length < 200));
});

t('STATE_ALLOW: only paths under it', () => {
  const paths = { '/etc/ssh': dir('/etc/ssh'), '/root': dir('/root') };
  const plan = planStateFiles(config({ '/etc/roroot.conf': 'STATE_ALLOW=/etc/ssh' }), facts({ ...stateMounted(), paths }), list('/etc/ssh\n/root\n'), `${STATE}/files`);
  assert.equal(plan.steps.map((s) => s.id), ['state-files:/etc/ssh']);
  assert.ok(plan.warnings.includes(`state-files: ${STATE}/files:2: /root: refused (not under STATE_ALLOW (/etc/ssh))`));
});

t.run();
