import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { printLine } from '../../init/sys/stdout-line';

// The child: this file again, printing LINES numbered lines, then going
// on as roroot does (an error event of a stream fires on a later tick).
const LINES = 200_000;
if (process.argv[2] === '--print') {
  for (let i = 0; i < LINES; i++) printLine(`line ${i}`);
  setTimeout(() => process.exit(0), 100);
}

const t = suite('sys/stdout-line');
const sh = (script: string) => spawnSync('sh', ['-c', script], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, CHILD: `${process.execPath} ${__filename} --print` } });

t('every line, whole and in order, through a pipe far larger than its buffer', () => {
  const r = sh('$CHILD | cat');
  assert.is(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.is(lines.length, LINES + 1);
  assert.ok(lines.slice(0, LINES).every((l, i) => l === `line ${i}`));
});

t('an output gone (the reader exited: EPIPE) does not end the process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'roroot-stdout-'));
  try {
    const r = sh(`($CHILD; echo $? > ${dir}/rc) | head -c 10 >/dev/null`);
    assert.is(r.status, 0, r.stderr);
    assert.is(readFileSync(join(dir, 'rc'), 'utf8').trim(), '0', 'process.stdout ended the process with an unhandled EPIPE');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

if (process.argv[2] !== '--print') t.run();
