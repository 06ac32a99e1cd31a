import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { describe } from '../../init/plan/describe';
import { planBoot, planStateFiles } from '../../init/plan/plan';
import type { Plan, Step } from '../../init/plan/steps';
import { config, dir, facts, file, link, missing, mount } from './fixtures';

const t = suite('plan/plan');
const commands = (steps: Step[]) => steps.map(describe);
const ids = (plan: Plan) => plan.steps.map((s) => s.id);
const fedoraRwtab = readFileSync(join(__dirname, '../../../test/fixtures/fedora-rwtab'), 'utf8');
const RW = '/var/lib/roroot/volatile';
const MASTER = '/var/lib/roroot/volatile.ini';

t('noreadonlyroot: nothing at all, whatever the config says', () => {
  const plan = planBoot(config({ '/etc/roroot.conf': 'READONLY=yes\n' }, 'ro noreadonlyroot'), facts({ mounts: [] }));
  assert.is(plan.active, false);
  assert.is(plan.reason, 'noreadonlyroot on the kernel command line');
  assert.equal(plan.steps, []);
});

t('READONLY=no and TEMPORARY_STATE=no: off; readonlyroot on the command line turns it on', () => {
  const files = { '/etc/sysconfig/readonly-root': 'READONLY=no\nTEMPORARY_STATE=no\n' };
  assert.is(planBoot(config(files), facts()).active, false);
  const on = planBoot(config(files, 'readonlyroot'), facts());
  assert.is(on.active, true);
  assert.is(on.reason, 'readonlyroot on the kernel command line');
  assert.is(planBoot(config({ '/etc/roroot.conf': 'READONLY=no\nTEMPORARY_STATE=yes' }), facts()).reason, 'TEMPORARY_STATE=yes');
});

t('kernel filesystems: only those not mounted yet, devtmpfs skipped with DEVTMPFS=no', () => {
  const plan = planBoot(config({}), facts({ mounts: [mount('/', '254:1', 'ext4', ['ro']), mount('/proc', '0:20', 'proc')] }));
  assert.equal(
    commands(plan.steps.filter((s) => s.phase === 'pseudo')),
    ['mount -n -t sysfs -o nosuid,nodev,noexec sysfs /sys', 'mount -n -t devtmpfs -o nosuid,mode=0755 devtmpfs /dev', 'mount -n -t devpts -o nosuid,noexec,gid=5,mode=0620,ptmxmode=000 devpts /dev/pts'],
  );
  const staticDev = planBoot(config({ '/etc/roroot.conf': 'DEVTMPFS=no' }), facts({ mounts: [mount('/', '254:1', 'ext4', ['ro'])] }));
  assert.equal(ids(staticDev).filter((i) => i.startsWith('pseudo')), ['pseudo.proc', 'pseudo.sys', 'pseudo.dev.pts']);
});

t('/etc/mtab that is not a link to /proc/mounts is a warning; ../proc/self/mounts is fine', () => {
  const bad = planBoot(config({}), facts({ paths: { ...facts().paths, '/etc/mtab': file('/etc/mtab') } }));
  assert.ok(bad.warnings.some((w) => w.startsWith('/etc/mtab is a file, not a symlink to /proc/mounts')));
  const systemd = planBoot(config({}), facts({ paths: { ...facts().paths, '/etc/mtab': link('../proc/self/mounts', '/proc/self/mounts', 'file') } }));
  assert.not.ok(systemd.warnings.some((w) => w.includes('/etc/mtab')));
});

t('scratch by RW_DEVICE: mkfs filled from the master copy, then mount; tmpfs + fill is the fallback of both', () => {
  const f = facts({ devices: { 'PARTUUID=c0ffee00-02': '/dev/vda2' }, deviceNumbers: { '/dev/vda2': '254:2' } });
  const plan = planBoot(config({ '/etc/roroot.conf': 'RW_DEVICE=PARTUUID=c0ffee00-02\nRW_LABEL=\n' }), f);
  const [mkfs, mnt] = plan.steps.filter((s) => s.phase === 'scratch');
  assert.is(describe(mkfs), `mkfs.ext4 -d ${MASTER} /dev/vda2`);
  assert.is(mkfs.fatal, false);
  assert.is(describe(mnt), `mount -n -t ext4 -o nosuid,nodev /dev/vda2 ${RW}`);
  assert.is(mnt.needs, 'scratch.mkfs');
  for (const s of [mkfs, mnt]) {
    assert.equal(commands(s.fallback ?? []), [`mount -n -t tmpfs -o mode=0755,nosuid,nodev tmpfs ${RW}`, `cp -a ${MASTER}/. ${RW}`]);
    assert.is(s.fallback?.[0].fatal, true, 'no tmpfs either: nothing usable');
  }
});

t('scratch order: fstab entry, then RW_DEVICE, then RW_LABEL; the label is kept by mkfs', () => {
  const files = {
    '/etc/fstab': `/dev/vda1 / ext4 ro 0 1\nLABEL=scratch ${RW} ext2 noauto,noatime 0 0\n`,
    '/etc/roroot.conf': 'RW_DEVICE=/dev/vdb1\nRW_LABEL=other\nRW_OPTIONS=size=1m',
  };
  const all = { 'LABEL=scratch': '/dev/vda3', '/dev/vdb1': '/dev/vdb1', 'LABEL=other': '/dev/vdc1' };
  const byFstab = planBoot(config(files), facts({ devices: all }));
  assert.is(describe(byFstab.steps[0]), `mkfs.ext2 -L scratch -d ${MASTER} /dev/vda3`);
  assert.is(describe(byFstab.steps[1]), `mount -n -t ext2 -o noatime,size=1m,nosuid,nodev /dev/vda3 ${RW}`);
  assert.is(byFstab.steps[0].why, '/etc/fstab:2; re-made at every boot, filled from the master copy');

  const byDevice = planBoot(config(files), facts({ devices: { ...all, 'LABEL=scratch': null } }));
  assert.is(describe(byDevice.steps[0]), `mkfs.ext4 -L other -d ${MASTER} /dev/vdb1`);
  assert.ok(byDevice.notes.includes('scratch: /etc/fstab:2: no such device'));

  const byLabel = planBoot(config(files), facts({ devices: { ...all, 'LABEL=scratch': null, '/dev/vdb1': null } }));
  assert.is(describe(byLabel.steps[0]), `mkfs.ext4 -L other -d ${MASTER} /dev/vdc1`);

  const none = planBoot(config(files), facts({ devices: { 'LABEL=scratch': null, '/dev/vdb1': null, 'LABEL=other': null } }));
  assert.equal(commands(none.steps), [`mount -n -t tmpfs -o mode=0755,size=1m,nosuid,nodev tmpfs ${RW}`, `cp -a ${MASTER}/. ${RW}`]);
  assert.is(none.steps[0].why, 'no scratch partition found');
});

t('a UUID= scratch keeps its UUID across the re-make, so fstab still finds it next boot', () => {
  const plan = planBoot(config({ '/etc/fstab': `UUID=5b1c0e7e-0000-4000-8000-000000000001 ${RW} ext4 defaults 0 0\n` }), facts({ devices: { 'UUID=5b1c0e7e-0000-4000-8000-000000000001': '/dev/sda4' } }));
  assert.is(describe(plan.steps[0]), `mkfs.ext4 -L roroot-rw -U 5b1c0e7e-0000-4000-8000-000000000001 -d ${MASTER} /dev/sda4`);
});

t('tmpfs scratch from fstab takes its options', () => {
  const plan = planBoot(config({ '/etc/fstab': `none ${RW} tmpfs size=16m,mode=0700 0 0\n` }), facts());
  assert.is(describe(plan.steps[0]), `mount -n -t tmpfs -o mode=0755,size=16m,mode=0700,nosuid,nodev tmpfs ${RW}`);
});

t('RW_OPTIONS=suid,dev is honoured instead of nosuid,nodev', () => {
  const plan = planBoot(config({ '/etc/roroot.conf': 'RW_OPTIONS=suid,dev' }), facts());
  assert.is(describe(plan.steps[0]), `mount -n -t tmpfs -o mode=0755,suid,dev tmpfs ${RW}`);
});

t('refuses to mkfs a device that is mounted (the root, say): tmpfs instead, and a warning', () => {
  const plan = planBoot(config({ '/etc/roroot.conf': 'RW_DEVICE=/dev/vda1' }), facts({ devices: { '/dev/vda1': '/dev/vda1' }, deviceNumbers: { '/dev/vda1': '254:1' } }));
  assert.not.ok(plan.steps.some((s) => s.kind === 'mkfs'));
  assert.is(plan.steps[0].kind, 'mount');
  assert.ok(plan.warnings.includes('scratch: refusing to mkfs /dev/vda1 (RW_DEVICE=/dev/vda1): it is mounted at /'));
});

t('scratch already mounted (boot runs twice): not re-made', () => {
  const plan = planBoot(config({ '/etc/roroot.conf': 'RW_DEVICE=/dev/vda2' }), facts({ mounts: [...facts().mounts, mount(RW, '254:2', 'ext4')], devices: { '/dev/vda2': '/dev/vda2' } }));
  assert.not.ok(plan.steps.some((s) => s.phase === 'scratch'));
  assert.ok(plan.notes.some((n) => n.startsWith(`scratch: ${RW} is already mounted`)));
});

t('missing master copy: scratch starts empty, with a warning, and no fill step', () => {
  const plan = planBoot(config({}), facts({ paths: { ...facts().paths, [MASTER]: missing } }));
  assert.equal(ids(plan), ['scratch.tmpfs']);
  assert.ok(plan.warnings.includes(`master copy ${MASTER} is missing: the scratch space starts empty`));
});

t('VOLATILE: a symlink step per path, target dir ensured inside the scratch mount', () => {
  const plan = planBoot(config({ '/etc/roroot.conf': 'VOLATILE="/tmp /var/log"' }), facts());
  const links = plan.steps.filter((s) => s.phase === 'volatile');
  assert.equal(commands(links), [`ln -s ${RW}/tmp /tmp`, `ln -s ${RW}/var/log /var/log`]);
  assert.ok(links.every((s) => s.kind === 'symlink' && s.ensureDir && s.within === RW && !s.fatal));
});

t('VOLATILE: a pattern left unexpanded is a warning, not a symlink named *', () => {
  const plan = planBoot(config({ '/etc/roroot.conf': 'VOLATILE="/tmp /var/spool/*"' }), facts());
  assert.equal(commands(plan.steps.filter((s) => s.phase === 'volatile')), [`ln -s ${RW}/tmp /tmp`]);
  assert.ok(plan.warnings.includes('VOLATILE: /var/spool/* is a pattern: roroot install expands it into the paths it links'));
});

t("rwtab: every line of Fedora's stock list becomes a bind, in order; missing paths are skipped", () => {
  const present = ['/var/log', '/tmp', '/etc/resolv.conf', '/var/lib/nfs'];
  const paths = { ...facts().paths, ...Object.fromEntries(present.map((p) => [p, p === '/etc/resolv.conf' ? file(p) : dir(p)])) };
  const plan = planBoot(config({ '/etc/rwtab': fedoraRwtab }), facts({ paths }));
  const binds = plan.steps.filter((s) => s.phase === 'rwtab');
  assert.equal(commands(binds), [
    `dirs /var/log; mount -n --bind ${RW}/var/log /var/log`,
    `empty /tmp; mount -n --bind ${RW}/tmp /tmp`,
    `files /etc/resolv.conf; mount -n --bind ${RW}/etc/resolv.conf /etc/resolv.conf`,
    `files /var/lib/nfs; mount -n --bind ${RW}/var/lib/nfs /var/lib/nfs`,
  ]);
  const lines = fedoraRwtab.split('\n').filter((l) => l.trim()).length;
  assert.is(plan.notes.filter((n) => n.startsWith('rwtab:') && n.includes('does not exist, skipped')).length, lines - present.length);
  assert.ok(plan.notes.includes('rwtab: /var/cache/man does not exist, skipped (/etc/rwtab:1)'));
});

t('rwtab: a path that resolves through a symlink binds at the resolved place; one already on scratch is left', () => {
  const paths = { ...facts().paths, '/var/lock': link('/run/lock', '/run/lock'), '/var/tmp': link(`${RW}/var/tmp`, `${RW}/var/tmp`) };
  const plan = planBoot(config({ '/etc/rwtab': 'empty /var/lock\nempty /var/tmp\n', '/etc/sysconfig/readonly-root': 'SLAVE_MOUNTS=yes' }), facts({ paths }));
  const binds = plan.steps.filter((s) => s.phase === 'rwtab');
  assert.equal(commands(binds), [`empty /run/lock; mount -n --bind -o slave ${RW}/run/lock /run/lock`]);
  assert.is(binds[0].why, 'empty in /etc/rwtab:1 (/var/lock resolves to /run/lock)');
  assert.ok(plan.notes.includes('rwtab: /var/tmp is already on the scratch space (/etc/rwtab:2)'));
});

t("rwtab: what an earlier bind hides is skipped, as rc.sysinit's [ -e ] does (Fedora's audit.log under dirs /var/log)", () => {
  const paths = { ...facts().paths, '/var/log': dir('/var/log'), '/var/log/audit/audit.log': file('/var/log/audit/audit.log'), '/var/log/audit': dir('/var/log/audit'), '/e': dir('/e'), '/e/sub': dir('/e/sub') };
  const rwtab = 'dirs /var/log\nfiles /var/log/audit/audit.log\nempty /var/log/audit\nempty /e\nfiles /e/sub\n';
  const plan = planBoot(config({ '/etc/rwtab': rwtab }), facts({ paths }));
  assert.equal(ids(plan).filter((i) => i.startsWith('rwtab')), ['rwtab:/var/log', 'rwtab:/var/log/audit', 'rwtab:/e'], 'a directory under dirs is still there');
  assert.ok(plan.notes.includes("rwtab: /var/log/audit/audit.log is hidden by dirs /var/log bound before it, skipped as rc.sysinit's [ -e ] does (/etc/rwtab:2)"));
  assert.ok(plan.notes.includes("rwtab: /e/sub is hidden by empty /e bound before it, skipped as rc.sysinit's [ -e ] does (/etc/rwtab:5)"));
});

t('rwtab: the same place twice binds once; rwtab.d files are read after /etc/rwtab', () => {
  const paths = { ...facts().paths, '/a': dir('/a'), '/b': dir('/b') };
  const plan = planBoot(config({ '/etc/rwtab': 'dirs /a\n', '/etc/rwtab.d/x': 'empty /b\nfiles /a\n' }, '', ['x', 'y.rpmsave']), facts({ paths }));
  assert.equal(ids(plan).filter((i) => i.startsWith('rwtab')), ['rwtab:/a', 'rwtab:/b']);
  assert.ok(plan.notes.includes('rwtab: /a is listed twice, the first one counts (/etc/rwtab.d/x:2)'));
});

t('broken config lines are config errors of the plan, apart from its warnings; the plan is still made', () => {
  const plan = planBoot(config({ '/etc/rwtab': 'bogus line here\nempty /tmp\n', '/etc/roroot.conf': 'READONLY=perhaps\n' }), facts({ paths: { ...facts().paths, '/tmp': dir('/tmp') } }));
  assert.ok(plan.active);
  assert.ok(plan.configErrors.includes('/etc/roroot.conf:1: READONLY: expected yes or no, got "perhaps"'));
  assert.ok(plan.configErrors.includes('/etc/rwtab:1: expected "empty", "dirs" or "files" then a path, got "bogus line here"'));
  assert.not.ok(plan.warnings.some((w) => w.includes('/etc/roroot.conf:1')));
  assert.ok(ids(plan).includes('rwtab:/tmp'));
});

t('hostname from the address when it is localhost: /etc/hosts, then reverse DNS, then derived', () => {
  const base = { kernelHostname: 'localhost', etcHostname: null, addresses: ['10.0.2.15'] };
  const hosts = { '/etc/hosts': '127.0.0.1 localhost\n10.0.2.15 r15.lan r15 # fleet\n' };
  assert.is(describe(planBoot(config(hosts), facts(base)).steps.find((s) => s.kind === 'hostname') as Step), 'hostname r15.lan');
  assert.is(describe(planBoot(config({}), facts({ ...base, reverseName: 'gw.example.net' })).steps.find((s) => s.kind === 'hostname') as Step), 'hostname gw.example.net');
  const derived = planBoot(config({}), facts(base)).steps.find((s) => s.kind === 'hostname') as Step;
  assert.is(describe(derived), 'hostname ip-10-0-2-15');
  assert.is(derived.why, '"localhost" is no name; 10.0.2.15 does not resolve, name derived from it');
  assert.not.ok(planBoot(config({}), facts({ ...base, kernelHostname: 'edge7' })).steps.some((s) => s.kind === 'hostname'), 'a real name is kept');
  assert.is(describe(planBoot(config({}), facts({ ...base, kernelHostname: '(none)', etcHostname: 'r9' })).steps.find((s) => s.kind === 'hostname') as Step), 'hostname r9');
});

t('state: fstab, then STATE_LABEL, then NFS CLIENTSTATE/HOSTNAME, each the fallback of the one before', () => {
  const files = {
    '/etc/fstab': '/dev/vdb1 /var/lib/roroot/state ext4 noatime 0 2\n',
    '/etc/roroot.conf': 'CLIENTSTATE=10.0.2.100:/export/clients\nSTATE_LABEL=keep\nNFS_TIMEOUT=7',
  };
  const plan = planBoot(config(files), facts({ devices: { '/dev/vdb1': '/dev/vdb1', 'LABEL=keep': '/dev/vdc1' }, kernelHostname: 'r1' }));
  const state = plan.steps.filter((s) => s.phase === 'state');
  assert.is(state.length, 1);
  const chain: string[] = [];
  for (let s: Step | undefined = state[0]; s; s = s.fallback?.[0]) chain.push(describe(s));
  assert.equal(chain, [
    'mount -n -t ext4 -o noatime /dev/vdb1 /var/lib/roroot/state',
    'mount -n /dev/vdc1 /var/lib/roroot/state',
    'mount -n -t nfs -o rw,nolock,retry=0,nosuid,nodev 10.0.2.100:/export/clients/r1 /var/lib/roroot/state',
  ]);
  const nfs = state[0].fallback?.[0].fallback?.[0];
  assert.ok(nfs && nfs.kind === 'nfs' && nfs.timeoutSec === 7 && nfs.retry);
  assert.equal(nfs.enrol, { parent: '10.0.2.100:/export/clients', name: 'r1', via: '/var/lib/roroot/volatile/.roroot/enrol' }, 'a new host creates its directory');
});

t('state over NFS uses the hostname planned from the address; an NFS fstab entry is an nfs step', () => {
  const plan = planBoot(config({ '/etc/roroot.conf': 'CLIENTSTATE=srv:/clients' }), facts({ kernelHostname: 'localhost', etcHostname: null, addresses: ['10.0.3.15'] }));
  assert.equal(commands(plan.steps.filter((s) => s.phase === 'state')), ['mount -n -t nfs -o rw,nolock,retry=0,nosuid,nodev srv:/clients/ip-10-0-3-15 /var/lib/roroot/state']);
  const fromFstab = planBoot(config({ '/etc/fstab': 'srv:/x /var/lib/roroot/state nfs4 soft,ro 0 0\n' }), facts());
  const fstabState = fromFstab.steps.filter((s) => s.phase === 'state');
  assert.equal(commands(fstabState), ['mount -n -t nfs -o nolock,retry=0,soft,ro,nosuid,nodev srv:/x /var/lib/roroot/state']);
  assert.ok(fstabState[0].kind === 'nfs' && fstabState[0].enrol === null, 'an fstab export names one directory: nothing to enrol');
});

t('no state configured: a note, no step', () => {
  const plan = planBoot(config({ '/etc/roroot.conf': 'STATE_LABEL=' }), facts());
  assert.not.ok(plan.steps.some((s) => s.phase === 'state'));
  assert.ok(plan.notes.some((n) => n.startsWith('state: no persistent state')));
});

t('REMOTE: NFS at /var/lib/roroot/remote, retried in the background; PERSISTENT links need it', () => {
  const plan = planBoot(config({ '/etc/roroot.conf': 'REMOTE=10.0.2.100:/export\nPERSISTENT=/var/lib/pppmlogin\nREMOTE_OPTIONS=soft' }), facts());
  const remote = plan.steps.filter((s) => s.phase === 'remote' || s.phase === 'persistent');
  assert.equal(commands(remote), ['mount -n -t nfs -o rw,nolock,retry=0,soft,nosuid,nodev 10.0.2.100:/export /var/lib/roroot/remote', 'ln -s /var/lib/roroot/remote/var/lib/pppmlogin /var/lib/pppmlogin']);
  assert.is(remote[1].needs, 'remote.nfs');
  const orphan = planBoot(config({ '/etc/roroot.conf': 'PERSISTENT=/var/x' }), facts());
  assert.ok(orphan.warnings.includes('PERSISTENT is set but REMOTE is not: /var/x will not be writable'));
});

t('phases come in the seed order', () => {
  const plan = planBoot(
    config({ '/etc/roroot.conf': 'VOLATILE=/tmp\nREMOTE=s:/e\nPERSISTENT=/p\nCLIENTSTATE=s:/c', '/etc/rwtab': 'empty /x' }),
    facts({ mounts: [], paths: { ...facts().paths, '/x': dir('/x') }, kernelHostname: 'localhost', addresses: ['10.1.1.1'] }),
  );
  const phases = [...new Set(plan.steps.map((s) => s.phase))];
  assert.equal(phases, ['pseudo', 'scratch', 'volatile', 'rwtab', 'hostname', 'state', 'remote', 'persistent']);
});

t('state files: each listed path bound from the state, copied there first when missing', () => {
  const c = config({});
  const f = facts({ paths: { '/etc/ssh': dir('/etc/ssh'), '/var/lib/x': link('/srv/x', '/srv/x') } });
  const plan = planStateFiles(c, f, '# keys\n/etc/ssh\n\n/var/lib/x\n/nope\nrelative\n');
  assert.equal(commands(plan.steps), [
    'missing /etc/ssh; mount -n --bind /var/lib/roroot/state/etc/ssh /etc/ssh',
    'missing /srv/x; mount -n --bind /var/lib/roroot/state/srv/x /srv/x',
  ]);
  assert.ok(plan.notes.includes('state-files: /nope does not exist on the root, skipped (/var/lib/roroot/state/files:5)'));
  assert.ok(plan.configErrors.includes('/var/lib/roroot/state/files:6: path "relative" must be absolute'));
});

t.run();
