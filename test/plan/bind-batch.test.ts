import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { batchBinds, bindFstab } from '../../init/plan/bind-batch';
import type { Bind, Step } from '../../init/plan/steps';

const t = suite('plan/bind-batch');
const RW = '/var/lib/roroot/volatile';
const FILE = `${RW}/.roroot/binds.fstab`;
const bind = (target: string, extra: Partial<Bind> = {}): Bind => ({
  id: `rwtab:${target}`,
  phase: 'rwtab',
  kind: 'bind',
  target,
  replicate: 'empty',
  root: '/',
  rel: target,
  within: RW,
  base: RW,
  store: null,
  argv: ['mount', '-n', '--bind', '-o', 'slave', RW + target, target],
  timeoutSec: 30,
  fatal: false,
  why: 'x',
  ...extra,
});
const shape = (steps: Step[]) => steps.map((s) => (s.kind === 'bind-batch' ? s.members.map((m) => m.target) : s.kind === 'bind' ? s.target : s.id));

t('consecutive binds of one phase go together; a nested target, a member needing another, or another phase starts a new batch', () => {
  const steps = [bind('/tmp'), bind('/var/log'), bind('/var/tmp'), bind('/var/log/audit'), bind('/x', { phase: 'state-files' }), bind('/y')];
  assert.equal(shape(batchBinds(steps, FILE)), [['/tmp', '/var/log', '/var/tmp'], '/var/log/audit', '/x', '/y'], '/var/log/audit must see /var/log bound first; the state binds are not batched: their fstab would land on the state');
  assert.equal(shape(batchBinds([bind('/a'), bind('/b', { needs: 'rwtab:/a' })], FILE)), ['/a', '/b'], 'a member that needs another waits for its result');
  assert.equal(shape(batchBinds([bind('/a', { needs: 'scratch.mount' }), bind('/b', { needs: 'scratch.mount' })], FILE)), [['/a', '/b']], 'what a member needs before the batch, the executor checks member by member');
  const identity = (target: string) => bind(target, { id: `identity:${target}:bind`, phase: 'identity', replicate: null, needs: `identity:${target}` });
  assert.equal(shape(batchBinds([bind('/a'), identity('/etc/machine-id'), identity('/etc/dropbear')], FILE)), ['/a', ['/etc/machine-id', '/etc/dropbear']]);
  assert.equal(shape(batchBinds([bind('/a'), bind('/b', { fallback: [] })], FILE)), ['/a', '/b'], 'a bind with a fallback runs alone');
  const [batch] = batchBinds([bind('/a'), bind('/b')], FILE);
  assert.ok(batch.kind === 'bind-batch');
  assert.equal(batch.argv, ['mount', '-n', '-a', '-T', FILE]);
  const host: Step = { id: 'h', phase: 'hostname', kind: 'hostname', name: 'r', file: '/proc/sys/kernel/hostname', fatal: false, why: '' };
  assert.equal(batchBinds([host], FILE), [host]);
});

t('the fstab mount -a reads: one bind per line, from each bind\'s own argv, fields escaped as fstab(5) says', () => {
  assert.is(
    bindFstab([bind('/tmp'), bind('/my dir\\x', { argv: ['mount', '-n', '--bind', `${RW}/my dir\\x`, '/my dir\\x'] })]),
    `${RW}/tmp /tmp none bind,slave 0 0\n${RW}/my\\040dir\\134x /my\\040dir\\134x none bind 0 0\n`,
  );
});

t.run();
