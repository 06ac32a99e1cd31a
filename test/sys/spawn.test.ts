import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CommandError, run, runChecked } from '../../init/sys/spawn';

const t = suite('sys/spawn');

t('a failure reads as the command that failed, then what it said, with the exit code', async () => {
  try {
    await runChecked('sh', ['-c', 'echo "mount: /x: special device /dev/nope does not exist." >&2; exit 32']);
    assert.unreachable();
  } catch (err) {
    assert.instance(err, CommandError);
    assert.is((err as CommandError).detail, '/x: special device /dev/nope does not exist. (exit 32)');
    assert.is((err as Error).message, `sh -c 'echo "mount: /x: special device /dev/nope does not exist." >&2; exit 32': /x: special device /dev/nope does not exist. (exit 32)`);
  }
  await runChecked('nonexistent-command-xyz', ['a']).then(
    () => assert.unreachable(),
    (e: Error) => assert.is(e.message, 'nonexistent-command-xyz a: nonexistent-command-xyz: command not found'),
  );
});

t('stdin is given, or empty: never /dev/null, which may not exist yet', async () => {
  assert.is((await run('cat', [], { input: 'abc' })).stdout, 'abc');
  assert.is((await run('cat', [])).stdout, '');
});

t('the timeout does not wait for an exit that never comes (an NFS mount stuck in the kernel)', async () => {
  // The background sleep keeps the pipes open after SIGKILL: 'close' would
  // not come for 5 s.
  const t0 = Date.now();
  await run('sh', ['-c', 'sleep 5 & sleep 5'], { timeoutSec: 1 }).then(
    () => assert.unreachable(),
    (e: CommandError) => assert.is(e.detail, 'timed out after 1 s'),
  );
  assert.ok(Date.now() - t0 < 3000, `returned after ${Date.now() - t0} ms`);
});

t.run();
