import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { crashState } from './crash-state';
import type { Request } from './request-log';
import { inWindow, lastClose, writesBefore } from './windows';

const t = suite('windows');
const root = { start: 0, size: 1 << 20 };
const r = (i: number, op: Request['op'], phase: string, offset = 0): Request => ({ i, t: i * 10, op, offset, length: op === 'write' ? 4096 : 0, fua: false, phase, at: op === 'write' ? i * 4096 : null, sha: null });
// boot, a window writing the root (flushed), a scratch write, a second
// window's root write left unflushed, then idle.
const log = [r(0, 'write', 'boot', 8192), r(1, 'write', 'rw-window', 4096), r(2, 'flush', 'rw-window'), r(3, 'write', 'idle', 2 << 20), r(4, 'flush', 'idle'), r(5, 'write', 'rw-window', 12288), r(6, 'read', 'idle'), r(7, 'write', 'idle', 2 << 20)];

t('the root as the last window closed it: every write before the close', () => {
  assert.is(lastClose(log, 1), 0);
  assert.is(lastClose(log, 4), 3);
  assert.is(lastClose(log, 8), 6);
  assert.equal(writesBefore(log, 3).map((p) => p.offset), [8192, 4096]);
});

t("a cut is a window's inside one, or while the storage holds a window's root write", () => {
  assert.ok(inWindow(log, crashState(log, 2, 'torn', 1), root), 'inside');
  assert.not.ok(inWindow(log, crashState(log, 4, 'torn', 1), root), 'flushed: over');
  assert.ok(inWindow(log, crashState(log, 7, 'torn', 1), root), 'the second window write is still cached');
  assert.not.ok(inWindow(log, crashState(log, 7, 'torn', 1), { start: 1 << 20, size: 1 << 20 }), 'on another partition the same write is no root write');
});

t.run();
