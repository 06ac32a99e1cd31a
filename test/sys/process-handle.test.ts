import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { processHandles, SpawnError, spawnOnHandles } from '../../init/sys/process-handle';
import { run } from '../../init/sys/spawn';

// Run as a child of the test below: one command through run(), then
// whether node:child_process was loaded for it.
if (process.env.RORORT_TEST_HANDLES_CHILD) {
  run('sh', ['-c', 'echo ran']).then((r) => {
    process.stdout.write(`${r.stdout.trim()} child_process=${(process as unknown as { moduleLoadList: string[] }).moduleLoadList.includes('NativeModule child_process')}\n`);
    process.exit(0);
  });
} else {
  const t = suite('sys/process-handle');
  const handles = () => {
    const h = processHandles();
    if (!h) throw new Error(`node ${process.version} gives no process_wrap, pipe_wrap or stream_wrap binding`);
    return h;
  };

  t('this node has the bindings', () => {
    handles();
  });

  t('stdout and stderr apart, the exit code, the environment given', async () => {
    const r = await spawnOnHandles(handles(), 'sh', ['-c', 'echo "out $X"; echo err >&2; exit 3'], { PATH: process.env.PATH, X: 'x1' }).done;
    assert.equal(r, { code: 3, signal: null, stdout: 'out x1\n', stderr: 'err\n' });
  });

  t('output longer than one read arrives whole; stdin is at its end at once', async () => {
    const r = await spawnOnHandles(handles(), 'sh', ['-c', 'cat; head -c 300000 /dev/zero | tr "\\0" a'], process.env).done;
    assert.is(r.stdout, 'a'.repeat(300000));
  });

  t('a signal is reported as such', async () => {
    const r = await spawnOnHandles(handles(), 'sh', ['-c', 'kill -TERM $$'], process.env).done;
    assert.is(r.signal, 'SIGTERM');
  });

  t('a missing command fails to start with its errno name', async () => {
    await spawnOnHandles(handles(), 'nonexistent-command-xyz', [], process.env).done.then(
      () => assert.unreachable(),
      (e: SpawnError) => assert.is(e.code, 'ENOENT'),
    );
  });

  t('cancel kills the command and never settles', async () => {
    const t0 = Date.now();
    const s = spawnOnHandles(handles(), 'sleep', ['5'], process.env);
    let settled = false;
    s.done.then(() => (settled = true), () => (settled = true));
    s.cancel();
    await new Promise((r) => setTimeout(r, 300));
    assert.not.ok(settled);
    assert.ok(Date.now() - t0 < 2000);
  });

  t('run() starts a command without loading node:child_process', async () => {
    const r = await run(process.execPath, [__filename], { env: { RORORT_TEST_HANDLES_CHILD: '1' } });
    assert.is(r.stdout.trim(), 'ran child_process=false', r.stderr);
  });

  t.run();
}
