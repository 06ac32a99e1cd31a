import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { clip, crashState, rng } from './crash-state';
import type { Request } from './request-log';

const t = suite('crash states');

let at = 0;
function log(ops: (['w', number, number] | ['W', number, number] | ['f'] | ['r'])[]): Request[] {
  at = 0;
  return ops.map((o, i) => {
    const write = o[0] === 'w' || o[0] === 'W';
    const r: Request = { i, t: i, op: write ? 'write' : o[0] === 'f' ? 'flush' : 'read', offset: write ? (o[1] as number) : 0, length: write ? (o[2] as number) : 0, fua: o[0] === 'W', phase: 'boot', at: write ? at : null, sha: null };
    if (write) at += r.length;
    return r;
  });
}

// w: write, W: FUA write, f: flush, r: read
const run = log([['w', 0, 4096], ['r'], ['f'], ['w', 8192, 1024], ['W', 16384, 512], ['w', 4096, 2048], ['r']]);

t('a cut keeps what was flushed or FUA, and only that when every cached write is lost', () => {
  for (const policy of ['prefix', 'subset', 'torn'] as const) {
    for (let seed = 0; seed < 200; seed++) {
      const s = crashState(run, 7, policy, seed);
      assert.is(s.pending, 2); // writes 3 and 5; 4 is FUA
      const offsets = s.pieces.map((p) => p.offset);
      assert.ok(offsets.includes(0), 'flushed write kept');
      assert.ok(offsets.includes(16384), 'FUA write kept');
      if (s.lost === 2) assert.equal(offsets, [0, 16384]);
    }
  }
});

t('prefix keeps cached writes in order: never a later one without an earlier one', () => {
  const seen = new Set<string>();
  for (let seed = 0; seed < 200; seed++) {
    const offsets = crashState(run, 7, 'prefix', seed).pieces.map((p) => p.offset);
    if (offsets.includes(4096)) assert.ok(offsets.includes(8192), `${offsets}`);
    seen.add(offsets.join(','));
  }
  assert.equal([...seen].sort(), ['0,16384', '0,8192,16384', '0,8192,16384,4096']);
});

t('subset reorders: a later write can survive an earlier one', () => {
  const seen = new Set<string>();
  for (let seed = 0; seed < 200; seed++) seen.add(crashState(run, 7, 'subset', seed).pieces.map((p) => p.offset).join(','));
  assert.ok(seen.has('0,16384,4096'), [...seen].join(' | '));
  assert.is(seen.size, 4);
});

t('torn keeps whole sectors of a multi-sector write, at their own offsets and data', () => {
  let tornSeen = 0;
  for (let seed = 0; seed < 300; seed++) {
    const s = crashState(run, 7, 'torn', seed);
    for (const p of s.pieces) {
      assert.is(p.offset % 512, 0);
      assert.is(p.length % 512, 0);
      // Data stays with its sector: a piece of the write at 4096 (data at 5632) keeps the offset.
      if (p.offset >= 4096 && p.offset < 6144) assert.is(p.at - 5632, p.offset - 4096);
    }
    if (s.torn > 0) tornSeen++;
  }
  assert.ok(tornSeen > 20, `torn ${tornSeen} times`);
});

t('the same (K, policy, seed) is the same state; a cut before any flush keeps only FUA', () => {
  assert.equal(crashState(run, 7, 'torn', 42), crashState(run, 7, 'torn', 42));
  assert.equal(crashState(run, 1, 'subset', 1).pieces.length <= 1, true);
  assert.equal(crashState(run, 0, 'prefix', 1).pieces, []);
  assert.throws(() => crashState(run, 8, 'prefix', 1), /outside the recording/);
  assert.is(rng(7)(), rng(7)());
});

t('clip: a partition sees the pieces inside it, at its own offsets', () => {
  assert.equal(clip([{ offset: 0, length: 4096, at: 100 }, { offset: 1024 * 1024 - 512, length: 1024, at: 9000 }, { offset: 5 << 20, length: 512, at: 0 }], 1024 * 1024, 4 << 20), [{ offset: 0, length: 512, at: 9512 }]);
});

t.run();
