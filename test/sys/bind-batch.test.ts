import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Step } from '../../init/plan/steps';
import { bindBatch, bindFstab } from '../../init/sys/bind-batch';

const t = suite('sys/bind-batch');
const RW = '/var/lib/roroot/volatile';
const bind = (target: string, extra: Partial<Step> = {}): Step =>
  ({ id: `rwtab:${target}`, phase: 'rwtab', kind: 'bind', source: RW + target, target, replicate: 'empty', options: ['slave'], fatal: false, why: 'x', ...extra }) as Step;

t('consecutive rwtab binds go together; a nested target, a needs or another phase starts a new batch', () => {
  const steps = [bind('/tmp'), bind('/var/log'), bind('/var/tmp'), bind('/var/log/audit'), bind('/x', { phase: 'state-files' } as Partial<Step>), bind('/y')];
  assert.equal(bindBatch(steps, 0).map((s) => s.target), ['/tmp', '/var/log', '/var/tmp'], '/var/log/audit must see /var/log bound first');
  assert.equal(bindBatch(steps, 3).map((s) => s.target), ['/var/log/audit']);
  assert.equal(bindBatch(steps, 4), [], 'the state binds are not batched: their fstab would land on the state');
  assert.equal(bindBatch([bind('/a'), bind('/b', { needs: 'scratch.mount' })], 0).length, 1);
  assert.equal(bindBatch([{ id: 'h', phase: 'hostname', kind: 'hostname', name: 'r', fatal: false, why: '' }], 0), []);
});

t('the fstab mount -a reads: one bind per line, fields escaped as fstab(5) says', () => {
  assert.is(
    bindFstab([
      { source: `${RW}/tmp`, target: '/tmp', options: ['slave'] },
      { source: `${RW}/my dir\\x`, target: '/my dir\\x', options: [] },
    ]),
    `${RW}/tmp /tmp none bind,slave 0 0\n${RW}/my\\040dir\\134x /my\\040dir\\134x none bind 0 0\n`,
  );
});

t.run();
