import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Bind, StepOf } from '../../init/plan/steps';
import { Logger } from '../../init/sys/log';
import { performBindBatch } from '../../init/sys/perform-bind';

// A batch whose fstab cannot be written (a full or read-only scratch):
// every member that was to be mounted fails on its own, with the reason,
// and no mount runs.

const t = suite('sys/perform-bind');

const member = (target: string): Bind => ({
  id: `identity:${target}:bind`,
  phase: 'identity',
  kind: 'bind',
  target,
  replicate: null,
  mountPoint: null,
  root: '/',
  rel: target,
  within: '/var/lib/roroot/state',
  base: '/var/lib/roroot/state',
  store: null,
  argv: ['mount', '-n', '--bind', `/var/lib/roroot/state${target}`, target],
  timeoutSec: 1,
  fatal: false,
  why: '',
});

t('an fstab that cannot be written fails each member, and says where', async () => {
  // Under a regular file: mkdir fails as on a broken scratch. (Not under
  // /proc: node 18's recursive mkdir loops for ever on its ENOENT.)
  const dir = mkdtempSync(join(tmpdir(), 'roroot-bind-'));
  writeFileSync(join(dir, 'file'), '');
  const file = join(dir, 'file/.roroot/identity-binds.fstab');
  const batch: StepOf<'bind-batch'> = { id: 'b', phase: 'identity', kind: 'bind-batch', file, members: [member('/etc/machine-id'), member('/etc/dropbear')], argv: ['mount', '-n', '-a', '-T', file], timeoutSec: 1, fatal: false, why: '' };
  const mounted = new Set(['/etc/dropbear']);
  const outcome = await performBindBatch(batch, { root: '/', log: new Logger(() => {}, null), mounted });
  assert.ok(typeof outcome === 'object');
  assert.equal(outcome.members.map((m) => `${m.step.target}:${m.status}`), ['/etc/dropbear:already', '/etc/machine-id:failed']);
  assert.match(outcome.members[1].error ?? '', new RegExp(`^${file}: ENOTDIR`));
  rmSync(dir, { recursive: true });
});

t.run();
