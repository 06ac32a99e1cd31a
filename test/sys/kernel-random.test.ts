import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { kernelRandom } from '../../init/sys/kernel-random';

const t = suite('sys/kernel-random');

t('bytes from the kernel, as many as asked, and not twice the same', () => {
  const a = kernelRandom(512);
  const b = kernelRandom(512);
  assert.is(a.length, 512);
  assert.not.ok(a.equals(b));
});

t('a device that ends early is an error, one that is not there the OpenSSL generator', () => {
  const dir = mkdtempSync(join(tmpdir(), 'roroot-random-'));
  try {
    writeFileSync(join(dir, 'short'), Buffer.alloc(10));
    assert.throws(() => kernelRandom(16, join(dir, 'short')), /short: end of file after 10 of 16 bytes/);
    assert.is(kernelRandom(16, join(dir, 'absent')).length, 16);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

t.run();
