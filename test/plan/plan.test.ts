import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { describe } from '../../init/plan/describe';
import { planBoot } from '../../init/plan/plan';
import type { Plan, Step } from '../../init/plan/steps';
import { config, dir, disk, facts, file, flat, link, missing, mount } from './fixtures';

const t = suite('plan/plan');
const commands = (steps: Step[]) => flat(steps).map(describe);
const ids = (plan: Plan) => flat(plan.steps).map((s) => s.id);
const fedoraRwtab = readFileSync(join(__dirname, '../../../test/fixtures/fedora-rwtab'), 'utf8');
const RW = '/var/lib/roroot/volatile';
const MASTER = '/var/lib/roroot/volatile.ini';

t('noreadonlyroot on a plain system: nothing at all, whatever the config says', () => {
  const plan = planBoot(config({ '/etc/roroot.conf': 'READONLY=yes\n' }, 'ro noreadonlyroot'), facts({ mounts: [] }));
  assert.is(plan.active, false);
  assert.is(plan.reason, 'noreadonlyroot on the kernel command line');
  assert.equal(plan.steps, []);
  assert.equal(plan.warnings, []);
});

t('noreadonlyroot on a converted system: / read-write, the master copy bound at the scratch mount so the links resolve, said loudly', () => {
  const paths = { ...facts().paths, '/tmp': link(`${RW}/tmp`, null), '/var/log': link(`${RW}/var/log`, null) };
  const plan = planBoot(config({ '/etc/roroot.conf': 'VOLATILE="/tmp /var/log"\n' }, 'ro noreadonlyroot'), facts({ paths }));
  assert.is(plan.active, false);
  assert.equal(commands(plan.steps), ['mount -n -o remount,rw /', `mount -n --bind ${MASTER} ${RW}`, `ln -s ${RW}/tmp /tmp`, `ln -s ${RW}/var/log /var/log`]);
  assert.ok(plan.steps.filter((s) => s.kind === 'symlink').every((s) => s.needs === 'scratch.master'), 'the links wait for the master copy');
  assert.match(plan.warnings[0], /^noreadonlyroot on the kernel command line: \/ is read-write and unprotected; the volatile places are the master copy \/var\/lib\/roroot\/volatile.ini itself/);
  const off = planBoot(config({ '/etc/sysconfig/readonly-root': 'READONLY=no\n', '/etc/roroot.conf': 'VOLATILE="/tmp /var/log"\n' }), facts({ paths }));
  assert.is(off.reason, 'READONLY=no and TEMPORARY_STATE=no');
  assert.ok(off.steps.some((s) => s.id === 'scratch.master'), 'READONLY=no on a converted system: the same read-write boot');
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

t('under --root every argv path lies inside the tree, symlinks resolved there', () => {
  const root = '/tmp/tree';
  const paths = { ...facts().paths, [RW]: { ...dir(RW), where: RW }, [MASTER]: dir(MASTER), '/var/log': link(`${RW}/var/log`, `${RW}/var/log`), '/var/lib/x': link('/srv/x', '/srv/x') };
  const plan = planBoot(config({ '/etc/roroot.conf': 'VOLATILE=/var/log\nRW_LABEL=', '/etc/rwtab': 'files /var/lib/x\n' }), facts({ root, paths: { ...paths, '/var/lib/x': link('/srv/x', '/srv/x') } }));
  assert.equal(commands(plan.steps.filter((s) => s.phase === 'scratch')), [`mount -n -t tmpfs -o mode=0755,size=25%,nosuid,nodev tmpfs ${root}${RW}`, `cp -a ${root}${MASTER}/. ${root}${RW}`]);
  assert.equal(commands(plan.steps.filter((s) => s.phase === 'rwtab')), [`files /srv/x; mount -n --bind ${root}${RW}/srv/x ${root}/srv/x`], 'the link /var/lib/x -> /srv/x means TREE/srv/x, never this machine\'s /srv/x');
  const sym = plan.steps.find((s) => s.kind === 'symlink');
  assert.ok(sym?.kind === 'symlink' && sym.link === `${root}/var/log` && sym.target === `${RW}/var/log`, 'the link text is a system path; where it is made lies in the tree');
});

t('/etc/mtab that is not a link to /proc/mounts is a warning; ../proc/self/mounts is fine', () => {
  const bad = planBoot(config({}), facts({ paths: { ...facts().paths, '/etc/mtab': file('/etc/mtab') } }));
  assert.ok(bad.warnings.some((w) => w.startsWith('/etc/mtab is a file, not a symlink to /proc/mounts')));
  const systemd = planBoot(config({}), facts({ paths: { ...facts().paths, '/etc/mtab': link('../proc/self/mounts', '/proc/self/mounts', 'file') } }));
  assert.not.ok(systemd.warnings.some((w) => w.includes('/etc/mtab')));
});

t('/ mounted read-write while READONLY=yes: a warning (a degraded reason), the rest planned as usual', () => {
  const plan = planBoot(config({}), facts({ mounts: [mount('/', '254:1', 'ext4', ['rw', 'relatime']), ...facts().mounts.slice(1)] }));
  assert.ok(plan.warnings.includes('/ is mounted read-write although READONLY=yes: a power cut can damage it (is "ro" on the kernel command line and in /etc/fstab?)'), plan.warnings.join('\n'));
  assert.ok(ids(plan).includes('scratch.tmpfs'));
  assert.not.ok(planBoot(config({}), facts()).warnings.some((w) => w.startsWith('/ is mounted')));
});

t('VOLATILE: a symlink step per path, target dir ensured inside the scratch mount', () => {
  const plan = planBoot(config({ '/etc/roroot.conf': 'VOLATILE="/tmp /var/log"' }), facts());
  const links = plan.steps.filter((s) => s.phase === 'volatile');
  assert.equal(commands(links), [`ln -s ${RW}/tmp /tmp`, `ln -s ${RW}/var/log /var/log`]);
  assert.ok(links.every((s) => s.kind === 'symlink' && s.ensure?.within === RW && !s.fatal));
});

t('VOLATILE: a pattern left unexpanded is a warning, not a symlink named *; / or a store is a config error', () => {
  const plan = planBoot(config({ '/etc/roroot.conf': 'VOLATILE="/tmp /var/spool/* / /var/lib"' }), facts());
  assert.equal(commands(plan.steps.filter((s) => s.phase === 'volatile')), [`ln -s ${RW}/tmp /tmp`]);
  assert.ok(plan.warnings.includes('VOLATILE: /var/spool/* is a pattern: roroot install expands it into the paths it links'));
  assert.ok(plan.configErrors.includes('VOLATILE: / is / itself: not linked'), plan.configErrors.join('\n'));
  assert.ok(plan.configErrors.includes(`VOLATILE: /var/lib holds ${RW}: not linked`), plan.configErrors.join('\n'));
});

t("rwtab: every line of Fedora's stock list becomes a bind, in order, in one batch; missing paths are skipped", () => {
  const present = ['/var/log', '/tmp', '/etc/resolv.conf', '/var/lib/nfs'];
  const paths = { ...facts().paths, ...Object.fromEntries(present.map((p) => [p, p === '/etc/resolv.conf' ? file(p) : dir(p)])) };
  const plan = planBoot(config({ '/etc/rwtab': fedoraRwtab }), facts({ paths }));
  const binds = plan.steps.filter((s) => s.phase === 'rwtab');
  assert.equal(binds.length, 1, 'one mount -a for the whole run');
  const batch = binds[0];
  assert.ok(batch.kind === 'bind-batch');
  assert.equal(batch.argv, ['mount', '-n', '-a', '-T', `${RW}/.roroot/binds.fstab`]);
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
  const binds = flat(plan.steps).filter((s) => s.phase === 'rwtab');
  assert.equal(commands(binds), [`empty /run/lock; mount -n --bind -o slave ${RW}/run/lock /run/lock`]);
  assert.is(binds[0].why, 'empty in /etc/rwtab:1 (/var/lock resolves to /run/lock)');
  assert.ok(plan.notes.includes('rwtab: /var/tmp is already on the scratch space (/etc/rwtab:2)'));
});

t("rwtab: what an earlier bind hides is skipped, as rc.sysinit's [ -e ] does (Fedora's audit.log under dirs /var/log)", () => {
  const paths = { ...facts().paths, '/var/log': dir('/var/log'), '/var/log/audit/audit.log': file('/var/log/audit/audit.log'), '/var/log/audit': dir('/var/log/audit'), '/e': dir('/e'), '/e/sub': dir('/e/sub') };
  const rwtab = 'dirs /var/log\nfiles /var/log/audit/audit.log\nempty /var/log/audit\nempty /e\nfiles /e/sub\n';
  const plan = planBoot(config({ '/etc/rwtab': rwtab }), facts({ paths }));
  assert.equal(ids(plan).filter((i) => i.startsWith('rwtab:')), ['rwtab:/var/log', 'rwtab:/var/log/audit', 'rwtab:/e'], 'a directory under dirs is still there');
  assert.ok(plan.notes.includes("rwtab: /var/log/audit/audit.log is hidden by dirs /var/log bound before it, skipped as rc.sysinit's [ -e ] does (/etc/rwtab:2)"));
  assert.ok(plan.notes.includes("rwtab: /e/sub is hidden by empty /e bound before it, skipped as rc.sysinit's [ -e ] does (/etc/rwtab:5)"));
  const batches = plan.steps.filter((s) => s.kind === 'bind-batch');
  assert.ok(batches.every((b) => b.kind === 'bind-batch' && !b.members.some((m) => b.members.some((o) => o !== m && m.target.startsWith(`${o.target}/`)))), 'a nested bind is never in the batch of the one above it');
});

t('rwtab: the same place twice binds once; rwtab.d files are read after /etc/rwtab', () => {
  const paths = { ...facts().paths, '/a': dir('/a'), '/b': dir('/b') };
  const plan = planBoot(config({ '/etc/rwtab': 'dirs /a\n', '/etc/rwtab.d/x': 'empty /b\nfiles /a\n' }, '', ['x', 'y.rpmsave']), facts({ paths }));
  assert.equal(ids(plan).filter((i) => i.startsWith('rwtab:')), ['rwtab:/a', 'rwtab:/b']);
  assert.ok(plan.notes.includes('rwtab: /a is listed twice, the first one counts (/etc/rwtab.d/x:2)'));
});

t('rwtab: / or a directory holding the scratch or the state is a config error, never a bind', () => {
  const paths = { ...facts().paths, '/': dir('/'), '/var/lib': dir('/var/lib'), '/var/lib/roroot/state/x': dir('/var/lib/roroot/state/x') };
  const plan = planBoot(config({ '/etc/rwtab': 'files /\ndirs /var/lib\nfiles /var/lib/roroot/state/x\n' }), facts({ paths }));
  assert.not.ok(ids(plan).some((i) => i.startsWith('rwtab')), ids(plan).join(' '));
  assert.ok(plan.configErrors.includes(`rwtab: /: a bind there would hide ${RW}, refused (/etc/rwtab:1)`), plan.configErrors.join('\n'));
  assert.ok(plan.configErrors.includes(`rwtab: /var/lib: a bind there would hide ${RW}, refused (/etc/rwtab:2)`));
  assert.ok(plan.configErrors.includes('rwtab: /var/lib/roroot/state/x lies inside /var/lib/roroot/state, refused (/etc/rwtab:3)'));
});

t('broken config lines are config errors of the plan, apart from its warnings; the plan is still made', () => {
  const plan = planBoot(config({ '/etc/rwtab': 'bogus line here\nempty /tmp\n', '/etc/roroot.conf': 'READONLY=perhaps\n' }), facts({ paths: { ...facts().paths, '/tmp': dir('/tmp') } }));
  assert.ok(plan.active);
  assert.ok(plan.configErrors.includes('/etc/roroot.conf:1: READONLY: expected yes or no, got "perhaps"'));
  assert.ok(plan.configErrors.includes('/etc/rwtab:1: expected "empty", "dirs" or "files" then a path, got "bogus line here"'));
  assert.not.ok(plan.warnings.some((w) => w.includes('/etc/roroot.conf:1')));
  assert.ok(ids(plan).includes('rwtab:/tmp'));
});

t('REMOTE: NFS at /var/lib/roroot/remote, as data (nosuid,nodev,noexec), retried in the background; PERSISTENT links need it', () => {
  const plan = planBoot(config({ '/etc/roroot.conf': 'REMOTE=10.0.2.100:/export\nPERSISTENT=/var/lib/pppmlogin\nREMOTE_OPTIONS=soft,suid,exec' }), facts());
  const remote = plan.steps.filter((s) => s.phase === 'remote' || s.phase === 'persistent');
  assert.equal(commands(remote), ['mount -n -t nfs -o rw,nolock,retry=0,soft,nosuid,nodev,noexec 10.0.2.100:/export /var/lib/roroot/remote', 'ln -s /var/lib/roroot/remote/var/lib/pppmlogin /var/lib/pppmlogin']);
  assert.is(remote[1].needs, 'remote.nfs');
  const orphan = planBoot(config({ '/etc/roroot.conf': 'PERSISTENT=/var/x' }), facts());
  assert.ok(orphan.warnings.includes('PERSISTENT is set but REMOTE is not: /var/x will not be writable'));
});

t('phases come in the seed order', () => {
  const plan = planBoot(
    config({ '/etc/roroot.conf': 'VOLATILE=/tmp\nREMOTE=s:/e\nPERSISTENT=/p\nCLIENTSTATE=s:/c\nOVERLAY=/etc/ppp', '/etc/rwtab': 'empty /x' }),
    facts({ mounts: [], paths: { ...facts().paths, '/x': dir('/x'), '/etc/ppp': dir('/etc/ppp') }, kernelHostname: 'localhost', addresses: ['10.1.1.1'], overlay: true }),
  );
  const phases = [...new Set(plan.steps.map((s) => s.phase))];
  assert.equal(phases, ['pseudo', 'scratch', 'volatile', 'rwtab', 'overlay', 'hostname', 'state', 'remote', 'persistent']);
});

t('the NFS mounts and what waits for them are the network lane, run beside the local steps', () => {
  const plan = planBoot(config({ '/etc/roroot.conf': 'VOLATILE=/tmp\nREMOTE=s:/e\nPERSISTENT=/p\nCLIENTSTATE=s:/c\nSTATE_LABEL=' }), facts({ kernelHostname: 'r1' }));
  assert.equal(plan.steps.filter((s) => s.lane === 'network').map((s) => s.id), ['state.nfs', 'remote.nfs', 'persistent:/p']);
  assert.ok(plan.steps.filter((s) => s.phase === 'volatile' || s.phase === 'scratch').every((s) => !s.lane));
});

t('the identity waits for the network lane only when it mounts the state or puts something on an identity path', () => {
  const state = [disk('/dev/vda3', '254:3', { label: 'roroot-state' })];
  const plan = (conf: string) => planBoot(config({ '/etc/roroot.conf': conf }), facts({ blockDevices: state, kernelHostname: 'r1' }));
  const after = (conf: string) => plan(conf).identityAfter;
  const local = plan('REMOTE=s:/e\nPERSISTENT=/var/lib/roroot-data\nSTATE_LABEL=roroot-state');
  assert.ok(local.steps.some((s) => s.phase === 'state' && s.kind === 'mount' && !s.lane) && local.steps.some((s) => s.kind === 'nfs'), 'a local state and REMOTE');
  assert.is(local.identityAfter, 'local', 'a local state, REMOTE elsewhere: made while NFS mounts');
  assert.is(after('REMOTE=s:/e\nPERSISTENT=/var/lib/dhcp\nSTATE_LABEL=roroot-state'), 'network', 'the DHCP leases linked to REMOTE');
  assert.is(after('REMOTE=s:/e\nPERSISTENT=/var/lib\nSTATE_LABEL=roroot-state'), 'network', 'a link over a directory that holds identity paths');
  assert.is(after('CLIENTSTATE=s:/c\nSTATE_LABEL='), 'network', 'the state on NFS');
  assert.is(after('REMOTE=s:/e\nPERSISTENT=/var/lib/roroot-data\nSTATE_LABEL='), 'scratch', 'no state: made on the scratch beside the local steps');
  assert.is(after('STATE_LABEL=roroot-other'), 'scratch', 'a state label no partition has: nothing mounts a state');
});

t('errors ext4 recorded on the root are a warning at every boot: nothing checks the read-only root', () => {
  const warned = (count: number) => planBoot(config({ '/etc/roroot.conf': 'VOLATILE=/tmp' }), facts({ rootErrors: { device: '/dev/vda1', count } })).warnings.filter((w) => w.startsWith('/: '));
  assert.equal(warned(2), ['/: ext4 has recorded 2 errors on /dev/vda1: check it with e2fsck -f from a maintenance boot (nothing checks the read-only root at boot)']);
  assert.equal(warned(0), []);
});

t('the network lane starts before the scratch unless it stands on something the local steps make', () => {
  const after = (conf: string) => planBoot(config({ '/etc/roroot.conf': conf }), facts({ kernelHostname: 'r1' })).networkAfter;
  assert.is(after('VOLATILE=/tmp\nREMOTE=s:/e\nPERSISTENT=/p'), 'plan', 'REMOTE and its links on the root: at once');
  assert.is(after('VOLATILE=/tmp\nCLIENTSTATE=s:/c\nSTATE_LABEL='), 'scratch', 'the enrolment mounts the parent export on the scratch');
  assert.is(after('VOLATILE=/tmp\nREMOTE=s:/e\nPERSISTENT=/tmp/kept'), 'local', 'a link inside a volatile place: after the step that makes its directory');
  assert.is(after('VOLATILE=/tmp'), 'plan', 'no network lane: nothing waits');
  // A link the root has already (no step makes it) into the scratch: the
  // persistent link under it lands on the scratch.
  const underLink = planBoot(
    config({ '/etc/roroot.conf': 'VOLATILE=/tmp\nREMOTE=s:/e\nPERSISTENT=/var/cache/x/kept' }),
    facts({ kernelHostname: 'r1', paths: { ...facts().paths, '/var/cache/x/kept': { ...missing, where: '/var/lib/roroot/volatile/var/cache/x/kept' } } }),
  );
  assert.ok(underLink.steps.some((s) => s.lane === 'network' && s.kind === 'symlink'), 'the persistent link is planned');
  assert.is(underLink.networkAfter, 'scratch', 'a persistent link through a link into the scratch');
  // Under an rwtab bind: until 2026-12 the lane waited only for the
  // scratch, and the link raced the bind.
  const underBind = planBoot(config({ '/etc/roroot.conf': 'VOLATILE=/tmp\nREMOTE=s:/e\nPERSISTENT=/var/lib/nfs/kept', '/etc/rwtab': 'files /var/lib/nfs\n' }), facts({ kernelHostname: 'r1', paths: { ...facts().paths, '/var/lib/nfs': dir('/var/lib/nfs') } }));
  assert.ok(underBind.steps.some((s) => s.phase === 'rwtab'), 'the rwtab bind is planned');
  assert.is(underBind.networkAfter, 'local', 'a persistent link under an rwtab bind: after the bind');
});

t('every step that runs a command carries its argv, and describe() is that argv', () => {
  const plan = planBoot(
    config({ '/etc/roroot.conf': 'RW_DEVICE=/dev/vda2\nRW_LABEL=\nREMOTE=s:/e' }),
    facts({ blockDevices: [disk('/dev/vda2', '254:2')] }),
  );
  const all = (steps: Step[]): Step[] => steps.flatMap((s) => [s, ...all(s.fallback ?? [])]);
  const withArgv = all(plan.steps).filter((s): s is Extract<Step, { argv: string[] }> => 'argv' in s);
  assert.ok(withArgv.length >= 5);
  for (const s of withArgv) if (s.kind !== 'bind' && s.kind !== 'bind-batch') assert.is(describe(s), s.argv.join(' '), s.id);
  const mkfs = withArgv.find((s) => s.kind === 'mkfs');
  assert.equal(mkfs?.argv, ['mkfs.ext4', '-q', '-F', '-m', '0', '-E', 'nodiscard', '-O', '^has_journal', '-d', MASTER, '/dev/vda2'], 'the flags that run are the flags shown');
});

t.run();
