import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { takeLock } from '../../init/rw/lock';

const t = suite('rw: one window at a time');
let dir: string;
t.before.each(() => {
  dir = mkdtempSync(join(tmpdir(), 'roroot-lock-'));
});
t.after.each(() => rmSync(dir, { recursive: true, force: true }));

t('taken, refused while its owner lives, free again once released', () => {
  const file = join(dir, 'sub/rw.lock');
  const first = takeLock(file, 'apt-get install -y tcpdump');
  assert.ok(first.held);
  assert.is(readFileSync(file, 'utf8'), `${process.pid}\napt-get install -y tcpdump\n`);
  const second = takeLock(file, 'dpkg -i x.deb');
  assert.equal(second, { held: false, owner: `pid ${process.pid}: apt-get install -y tcpdump` });
  if (first.held) first.release();
  assert.not.ok(existsSync(file));
  const third = takeLock(file, 'dpkg -i x.deb');
  assert.ok(third.held);
  if (third.held) assert.is(third.staleOwner, null);
});

t('a lock left by a dead process is taken over, and the caller is told whose', () => {
  const dead = spawnSync('sh', ['-c', 'echo $$']).stdout.toString().trim();
  const file = join(dir, 'rw.lock');
  writeFileSync(file, `${dead}\nsleep 100\n`);
  const lock = takeLock(file, 'true');
  assert.ok(lock.held);
  if (lock.held) assert.is(lock.staleOwner, `pid ${dead}: sleep 100`);
  assert.is(readFileSync(file, 'utf8'), `${process.pid}\ntrue\n`);
});

t('an unreadable lock is not a live owner', () => {
  const file = join(dir, 'rw.lock');
  writeFileSync(file, 'garbage');
  const lock = takeLock(file, 'true');
  assert.ok(lock.held);
  if (lock.held) assert.is(lock.staleOwner, 'an unreadable lock');
});

t.run();
