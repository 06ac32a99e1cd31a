import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Logger } from '../../init/sys/log';

const t = suite('sys/log');

t('console and kernel log, with syslog levels; lines before /dev/kmsg exists are kept and flushed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'roroot-log-'));
  const kmsg = join(dir, 'kmsg');
  const seen: string[] = [];
  const log = new Logger((l) => seen.push(l), kmsg);
  log.info('pseudo: early');
  assert.not.ok(log.openKmsg(), 'not there yet');
  writeFileSync(kmsg, '');
  log.warn('config: late');
  assert.ok(log.openKmsg());
  log.error('scratch: failed, continuing');
  log.close();
  assert.equal(seen, ['roroot: pseudo: early', 'roroot: config: late', 'roroot: scratch: failed, continuing']);
  assert.is(readFileSync(kmsg, 'utf8'), '<6>roroot: pseudo: early\n<4>roroot: config: late\n<3>roroot: scratch: failed, continuing\n');
  rmSync(dir, { recursive: true });
});

t('more than 10 records: all written (the kernel rate-limits each open file to 10)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'roroot-log-'));
  const kmsg = join(dir, 'kmsg');
  writeFileSync(kmsg, '');
  const log = new Logger(() => {}, kmsg);
  for (let i = 1; i <= 25; i++) log.info(`step ${i}`);
  log.close();
  assert.is(readFileSync(kmsg, 'utf8').split('\n').filter(Boolean).length, 25);
  rmSync(dir, { recursive: true });
});

t('a kernel log that never appears is said once on the console', () => {
  const seen: string[] = [];
  const log = new Logger((l) => seen.push(l), '/nonexistent/kmsg');
  log.info('x');
  log.close();
  assert.equal(seen, ['roroot: x', 'roroot: log: cannot open /nonexistent/kmsg: 1 lines are on the console only']);
});

t.run();
