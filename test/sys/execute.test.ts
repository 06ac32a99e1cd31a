import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Step, StepKind } from '../../init/plan/steps';
import { execute, type ExecContext, type Outcome, type Performers } from '../../init/sys/execute';
import { Logger } from '../../init/sys/log';
import { CommandError } from '../../init/sys/spawn';

// The executor on its own: a table of performers is its input, so here each
// performer is a few lines that record what ran and fail when told to; what
// is tested is what the executor does with the plan's needs, fallback,
// fallbackWhen, fatal and retry, and with a batch's members.

const t = suite('sys/execute');

function setup(fail: Record<string, string> = {}) {
  const ran: string[] = [];
  const lines: string[] = [];
  const perform = async (step: Step): Promise<Outcome> => {
    ran.push(step.id);
    if (fail[step.id]) throw new CommandError(step.kind === 'mount' || step.kind === 'nfs' ? step.argv.join(' ') : step.id, fail[step.id]);
    if (step.kind === 'bind-batch') return { members: step.members.map((m) => (fail[m.id] ? { step: m, status: 'failed', error: fail[m.id] } : { step: m, status: 'ok' })) };
    return 'ok';
  };
  const performers = Object.fromEntries((['mount', 'remount', 'mkfs', 'fill', 'bind', 'bind-batch', 'symlink', 'mkdir', 'enrol', 'nfs', 'umount', 'hostname', 'depmod'] as StepKind[]).map((k) => [k, perform])) as unknown as Performers;
  const ctx: ExecContext = { root: '/', log: new Logger((l) => lines.push(l), null), mounted: new Set() };
  return { ran, lines, run: (steps: Step[], earlier: Parameters<typeof execute>[3] = []) => execute(steps, ctx, performers, earlier) };
}

const mount = (id: string, extra: Partial<Step> = {}): Step => ({ id, phase: 'scratch', kind: 'mount', target: `/${id}`, mkdir: null, argv: ['mount', '-n', id, `/${id}`], timeoutSec: 1, fatal: false, why: '', ...extra }) as Step;
const nfs = (id: string, extra: Partial<Step> = {}): Step => ({ id, phase: 'state', kind: 'nfs', target: `/${id}`, mkdir: null, retry: true, argv: ['mount', '-n', '-t', 'nfs', `srv:/${id}`, `/${id}`], timeoutSec: 1, fatal: false, why: '', ...extra }) as Step;

t('in order; a step whose need failed is skipped and said so; a failure reads like the command and goes on', async () => {
  const x = setup({ a: 'wrong fs type (exit 32)' });
  const out = await x.run([mount('a'), mount('b', { needs: 'a' }), mount('c')]);
  assert.equal(x.ran, ['a', 'c']);
  assert.equal(out.results.map((r) => `${r.id}:${r.status}`), ['a:failed', 'b:skipped', 'c:ok']);
  assert.match(x.lines[0], /^roroot: scratch: mount -n a \/a: wrong fs type \(exit 32\), continuing \([\d.]+ ms\)$/);
  assert.match(x.lines[1], /^roroot: scratch: mount -n b \/b: skipped, a did not succeed$/);
  assert.is(out.fatal, false);
});

t('a need met (or not) in an earlier round: boot runs the root and the scratch before the rest', async () => {
  const x = setup({ a: 'x' });
  const first = await x.run([mount('m'), mount('a')]);
  const out = await x.run([mount('b', { needs: 'm' }), mount('c', { needs: 'a' })], first.results);
  assert.equal(out.results.map((r) => `${r.id}:${r.status}`), ['b:ok', 'c:skipped']);
});

t('a failure runs the fallback instead (recorded as its fallback); a fatal step without one stops everything', async () => {
  const x = setup({ a: 'x', t: 'no memory' });
  const out = await x.run([mount('a', { fallback: [mount('t', { fatal: true })] }), mount('after')]);
  assert.equal(x.ran, ['a', 't']);
  assert.is(out.fatal, true);
  assert.equal(out.results.map((r) => `${r.id}:${r.status}${r.fallbackFor ? `<${r.fallbackFor}` : ''}`), ['a:failed', 't:failed<a']);
  assert.match(x.lines[1], /no memory, giving up/);
});

t('fallbackWhen: the fallback only for the error it names; otherwise an NFS mount is left to the background retry', async () => {
  const enrol = [nfs('enrol.mount', { retry: false }), nfs('again', { needs: 'enrol.mount' })];
  const missing = setup({ s: 'mounting srv:/s failed, reason given by server: No such file or directory (exit 32)' });
  const a = await missing.run([nfs('s', { fallbackWhen: 'No such file or directory', fallback: enrol })]);
  assert.equal(missing.ran, ['s', 'enrol.mount', 'again']);
  assert.equal(a.retry, []);
  const down = setup({ s: 'timed out after 1 s' });
  const b = await down.run([nfs('s', { fallbackWhen: 'No such file or directory', fallback: enrol })]);
  assert.equal(down.ran, ['s']);
  assert.equal(b.retry.map((s) => s.id), ['s']);
  assert.match(down.lines[0], /timed out after 1 s, continuing, retrying in the background/);
});

const member = (id: string, extra: Partial<Step> = {}) => ({ ...mount(id), kind: 'bind', phase: 'rwtab', replicate: 'empty', rel: `/${id}`, root: '/', within: '/rw', base: '/rw', store: null, ...extra }) as unknown as Extract<Step, { kind: 'bind' }>;
const batchOf = (members: Extract<Step, { kind: 'bind' }>[]) => ({ id: 'batch', phase: 'rwtab', kind: 'bind-batch', file: '/rw/binds.fstab', members, argv: ['mount', '-n', '-a', '-T', '/rw/binds.fstab'], timeoutSec: 1, fatal: false, why: '' }) as Step;

t('a batch: each member recorded and said on its own, then the one mount', async () => {
  const x = setup({ m2: 'mount point does not exist' });
  const out = await x.run([batchOf([member('m1'), member('m2')])]);
  assert.equal(out.results.map((r) => `${r.id}:${r.status}`), ['m1:ok', 'm2:failed']);
  assert.match(x.lines.join('\n'), /rwtab: empty \/m2; mount -n m2 \/m2: mount point does not exist, continuing/);
  assert.match(x.lines.join('\n'), /rwtab: mount -n -a -T \/rw\/binds.fstab: 2 binds in one mount/);
});

t('a batch member whose need failed is skipped and said so; the others are mounted; with none left, nothing runs', async () => {
  const x = setup({ 'make:b': 'dropbearkey: exit 1' });
  const out = await x.run([mount('make:a'), mount('make:b'), batchOf([member('a', { needs: 'make:a' }), member('b', { needs: 'make:b' })])]);
  assert.equal(out.results.map((r) => `${r.id}:${r.status}`), ['make:a:ok', 'make:b:failed', 'b:skipped', 'a:ok']);
  assert.match(x.lines.join('\n'), /mount -n b \/b: skipped, make:b did not succeed/);
  assert.match(x.lines.join('\n'), /rwtab: mount -n -a -T \/rw\/binds.fstab: 1 binds in one mount/);
  const y = setup({ 'make:a': 'x' });
  const none = await y.run([mount('make:a'), batchOf([member('a', { needs: 'make:a' })])]);
  assert.equal(y.ran, ['make:a'], 'no mount -a for nothing');
  assert.equal(none.results.map((r) => `${r.id}:${r.status}`), ['make:a:failed', 'a:skipped']);
});

t.run();
