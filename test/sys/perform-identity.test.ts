import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { StepOf } from '../../init/plan/steps';
import { Logger } from '../../init/sys/log';
import { performIdentity } from '../../init/sys/perform-identity';

const t = suite('sys/perform-identity');
let dir: string;
t.before.each(() => {
  dir = mkdtempSync(join(tmpdir(), 'roroot-identity-'));
});
t.after.each(() => rmSync(dir, { recursive: true, force: true }));

// A key maker as the plan gives it (`-f KEY` last): it says it started,
// waits up to 5 s for the other maker to have started too, then writes
// its key. Made one after the other, the first waits in vain and fails.
const maker = (name: string, other: string, key: string) => [
  'sh',
  '-c',
  `: > "${dir}/started-${name}"; i=0; until [ -e "${dir}/started-${other}" ]; do i=$((i + 1)); [ $i -le 250 ] || { echo "${name}: ${other} never started" >&2; exit 1; }; sleep 0.02; done; echo ${name} > "$1"`,
  '-f',
  key,
];

const step = (copy: string, argv: string[][]): StepOf<'identity'> => ({
  kind: 'identity',
  id: 'identity.dropbear',
  phase: 'identity',
  why: 'test',
  fatal: false,
  item: 'dropbear-keys',
  is: 'dir',
  copy,
  seed: null,
  within: dir,
  argv,
});

const ctx = () => ({ root: '/', log: new Logger(() => {}, null), mounted: new Set([dir]) });

t('the missing keys are made side by side, each by its own process', async () => {
  const copy = join(dir, 'etc/dropbear');
  const s = step(copy, [maker('ed25519', 'ecdsa', '/etc/dropbear/dropbear_ed25519_host_key'), maker('ecdsa', 'ed25519', '/etc/dropbear/dropbear_ecdsa_host_key')]);
  // The key paths are the system's; the performer checks them in its copy,
  // and the makers here write where they are told: into the copy.
  s.argv = s.argv.map((argv) => [...argv.slice(0, -1), join(copy, argv[argv.length - 1].split('/').pop() as string)]);
  assert.is(await performIdentity(s, ctx()), 'ok');
  assert.is(readFileSync(join(copy, 'dropbear_ed25519_host_key'), 'utf8'), 'ed25519\n');
  assert.is(readFileSync(join(copy, 'dropbear_ecdsa_host_key'), 'utf8'), 'ecdsa\n');
});

t('a key that is there is kept; one that failed fails the step, and the other is still made', async () => {
  const copy = join(dir, 'etc/dropbear');
  mkdirSync(copy, { recursive: true });
  writeFileSync(join(copy, 'dropbear_ed25519_host_key'), 'kept\n');
  const never = ['sh', '-c', 'echo "no entropy" >&2; exit 1', '-f', join(copy, 'dropbear_ecdsa_host_key')];
  const made = ['sh', '-c', 'echo rsa > "$1"', '-f', join(copy, 'dropbear_rsa_host_key')];
  const keep = ['sh', '-c', 'echo replaced > "$1"', '-f', join(copy, 'dropbear_ed25519_host_key')];
  try {
    await performIdentity(step(copy, [keep, never, made]), ctx());
    assert.unreachable('a failed key maker did not fail the step');
  } catch (err) {
    assert.match((err as Error).message, /no entropy/);
  }
  assert.is(readFileSync(join(copy, 'dropbear_ed25519_host_key'), 'utf8'), 'kept\n');
  assert.is(readFileSync(join(copy, 'dropbear_rsa_host_key'), 'utf8'), 'rsa\n');
  assert.not.ok(existsSync(join(copy, 'dropbear_ecdsa_host_key')));
});

t.run();
