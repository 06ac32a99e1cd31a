import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { takeLock } from '../../init/rw/lock';

// One window at a time: flock(2), held by a supervisor process. As a racer
// (RORORT_LOCK_RACE=FILE), this file takes the lock, holds it a moment and
// says whether it got it.

if (process.env.RORORT_LOCK_RACE) {
  void takeLock(process.env.RORORT_LOCK_RACE, `racer ${process.pid}`, '/nonexistent', null).then(async (lock) => {
    process.stdout.write(lock.held ? 'held\n' : `refused ${lock.owner}\n`);
    await new Promise((r) => setTimeout(r, 1500));
    if (lock.held) lock.release();
  });
} else {
  const t = suite('rw/lock');
  let dir: string;
  t.before.each(() => {
    dir = mkdtempSync(join(tmpdir(), 'roroot-lock-'));
  });
  t.after.each(() => rmSync(dir, { recursive: true, force: true }));

  t('taken, refused while held (its owner named), free again once released', async () => {
    const file = join(dir, 'sub/rw.lock');
    const first = await takeLock(file, 'apt-get install -y tcpdump', '/nonexistent', null);
    assert.ok(first.held);
    const second = await takeLock(file, 'dpkg -i x.deb', '/nonexistent', null);
    assert.equal(second, { held: false, owner: `pid ${process.pid}: apt-get install -y tcpdump` });
    if (first.held) first.release();
    await new Promise((r) => setTimeout(r, 200)); // the supervisor's exit drops the lock
    const third = await takeLock(file, 'dpkg -i x.deb', '/nonexistent', null);
    assert.ok(third.held);
    if (third.held) third.release();
  });

  t('twenty takers at once: exactly one wins (a pid file had two takers of a stale lock both win)', async () => {
    const file = join(dir, 'rw.lock');
    const racers = Array.from({ length: 20 }, () => {
      const child = spawn(process.execPath, [__filename], { env: { ...process.env, RORORT_LOCK_RACE: file } });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      return new Promise<string>((resolve) => child.on('exit', () => resolve(out.trim())));
    });
    const said = await Promise.all(racers);
    assert.is(said.filter((s) => s === 'held').length, 1, said.join('\n'));
    assert.ok(said.filter((s) => s !== 'held').every((s) => /^refused (pid \d+: racer \d+|another roroot rw)$/.test(s)), said.join('\n'));
  });

  t.run();
}
