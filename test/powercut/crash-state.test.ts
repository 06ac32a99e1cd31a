import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { clip, crashState, noise, PAGE, rng, STORAGE } from './crash-state';
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

t('a drive that honours FLUSH and FUA: a cut keeps what was flushed or FUA, and only that when every cached write is lost', () => {
  for (const policy of ['prefix', 'subset', 'torn', 'erase-block'] as const) {
    for (let seed = 0; seed < 200; seed++) {
      const s = crashState(run, 7, policy, seed);
      assert.is(s.pending, 2); // writes 3 and 5; 4 is FUA
      const offsets = s.pieces.filter((p) => !p.from).map((p) => p.offset);
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

t('flush-ignored: FLUSH and FUA count for nothing; the recent past is at risk, older writes were drained', () => {
  // Writes of 1 MiB each, 1 s apart; a flush after every one.
  let pos = 0;
  const big: Request[] = [];
  for (let n = 0; n < 40; n++) {
    big.push({ i: big.length, t: n * 1000, op: 'write', offset: n << 20, length: 1 << 20, fua: n % 2 === 0, phase: n >= 30 ? 'rw-window' : 'boot', at: pos, sha: null });
    pos += 1 << 20;
    big.push({ i: big.length, t: n * 1000, op: 'flush', offset: 0, length: 0, fua: false, phase: 'boot', at: null, sha: null });
  }
  const cut = big.length;
  const s = crashState(big, cut, 'flush-ignored', 7);
  assert.is(s.pending, 32, 'the last 32 MiB: 32 writes, flushed or FUA or not');
  assert.equal(s.atRisk, big.filter((r) => r.op === 'write' && r.i >= 16).map((r) => r.i));
  for (let seed = 0; seed < 50; seed++) {
    const offsets = new Set(crashState(big, cut, 'flush-ignored', seed).pieces.map((p) => p.offset >> 20));
    for (let n = 0; n < 8; n++) assert.ok(offsets.has(n), `write ${n} is older than the horizon: durable`);
  }
  // Time covers more than bytes: 10 s back is 11 writes, 4 MiB is 4.
  assert.is(crashState(big, cut, 'flush-ignored', 1, { ...STORAGE, horizonBytes: 4 << 20, horizonMs: 10000 }).pending, 11);
  assert.is(crashState(big, cut, 'flush-ignored', 1, { ...STORAGE, horizonBytes: 4 << 20, horizonMs: 0 }).pending, 4);
  const lost = new Set<number>();
  for (let seed = 0; seed < 50; seed++) {
    const st = crashState(big, cut, 'flush-ignored', seed);
    assert.ok(st.torn > 0 || st.lost > 0);
    for (let n = 8; n < 40; n++) if (!st.pieces.some((p) => p.offset >> 20 === n)) lost.add(n);
  }
  assert.ok(lost.has(39) && lost.has(8), 'any of them, flushed or not');
});

t('erase-block: a cut write may take pages of its erase block with it, as they were before the recording or as noise', () => {
  const mib = 1 << 20;
  const eb: Request[] = [
    { i: 0, t: 0, op: 'write', offset: 0, length: 4096, fua: false, phase: 'boot', at: 0, sha: null },
    { i: 1, t: 1, op: 'flush', offset: 0, length: 0, fua: false, phase: 'boot', at: null, sha: null },
    { i: 2, t: 2, op: 'write', offset: 5 * mib, length: 8192, fua: false, phase: 'log-storm', at: 4096, sha: null },
  ];
  const kinds = new Set<string>();
  let damaged = 0;
  for (let seed = 0; seed < 300; seed++) {
    const s = crashState(eb, 3, 'erase-block', seed);
    assert.equal(crashState(eb, 3, 'erase-block', seed), s, 'the same seed, the same state');
    for (const p of s.pieces.filter((x) => x.from)) {
      kinds.add(p.from as string);
      assert.ok(p.offset >= 4 * mib && p.offset + p.length <= 8 * mib, 'inside the erase block of the write at 5 MiB');
      assert.is(p.offset % PAGE, 0);
      if (p.from === 'base') assert.is(p.at, p.offset);
    }
    assert.ok(s.pieces.some((p) => p.offset === 0 && !p.from), 'the flushed write stays');
    if (s.damaged > 0) damaged++;
    if (s.lost === 0 && s.torn === 0) assert.is(s.damaged, 0, 'a write that landed whole damages nothing');
  }
  assert.ok(damaged > 50 && damaged < 250, `${damaged} of 300 damaged`);
  assert.equal([...kinds].sort(), ['base', 'noise']);
  assert.equal(noise(512, 1024), noise(512, 1024));
  assert.equal(noise(512, 1024).subarray(512), noise(1024, 512), 'noise belongs to its position');
  // A smaller erase block: the damage stays within 1 MiB blocks.
  for (let seed = 0; seed < 100; seed++) for (const p of crashState(eb, 3, 'erase-block', seed, { ...STORAGE, eraseBlock: mib }).pieces.filter((x) => x.from)) assert.ok(p.offset >= 5 * mib && p.offset + p.length <= 6 * mib);
});

t('clip: a partition sees the pieces inside it, at its own offsets', () => {
  assert.equal(clip([{ offset: 0, length: 4096, at: 100 }, { offset: 1024 * 1024 - 512, length: 1024, at: 9000 }, { offset: 5 << 20, length: 512, at: 0 }], 1024 * 1024, 4 << 20), [{ offset: 0, length: 512, at: 9512 }]);
});

t.run();
