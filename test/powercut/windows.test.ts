import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { crashState } from './crash-state';
import type { Request } from './request-log';
import { Windows, writesBefore } from './windows';

const t = suite('windows');
const root = { start: 0, size: 1 << 20 };
const r = (i: number, op: Request['op'], phase: string, offset = 0): Request => ({ i, t: i * 10, op, offset, length: op === 'write' ? 4096 : 0, fua: false, phase, at: op === 'write' ? i * 4096 : null, sha: null });
// boot, a window writing the root (flushed), a scratch write, a second
// window's root write left unflushed, then idle.
const log = [r(0, 'write', 'boot', 8192), r(1, 'write', 'rw-window', 4096), r(2, 'flush', 'rw-window'), r(3, 'write', 'idle', 2 << 20), r(4, 'flush', 'idle'), r(5, 'write', 'rw-window', 12288), r(6, 'read', 'idle'), r(7, 'write', 'idle', 2 << 20)];

const w = new Windows(log, root);

t('the root as the last window closed it: every write before the close', () => {
  assert.is(w.close(1), 0);
  assert.is(w.close(4), 3);
  assert.is(w.close(8), 6);
  assert.equal(writesBefore(log, 3).map((p) => p.offset), [8192, 4096]);
});

t("a cut is a window's inside one, or while the storage holds a window's root write", () => {
  assert.ok(w.owns(crashState(log, 2, 'torn', 1)), 'inside');
  assert.ok(w.inside(2));
  assert.not.ok(w.owns(crashState(log, 4, 'torn', 1)), 'flushed: over');
  assert.ok(w.owns(crashState(log, 7, 'torn', 1)), 'the second window write is still cached');
  assert.not.ok(w.inside(7));
  assert.not.ok(new Windows(log, { start: 1 << 20, size: 1 << 20 }).owns(crashState(log, 7, 'torn', 1)), 'on another partition the same write is no root write');
});

t("a boot whose mount recovers the root starts with that recovery as a window, up to the first write elsewhere", () => {
  const boot = [r(0, 'write', 'boot', 4096), r(1, 'write', 'boot', 8192), r(2, 'write', 'boot', 2 << 20), r(3, 'write', 'boot', 4096)];
  const m = new Windows(boot, root, true);
  assert.ok(m.inside(2));
  assert.not.ok(m.inside(3));
  assert.is(m.close(4), 2, 'after it, the root should be as the recovery left it');
  assert.is(new Windows(boot, root).close(4), 0);
});

t.run();
