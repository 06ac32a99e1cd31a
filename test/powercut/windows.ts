import type { CrashState, Piece } from './crash-state';
import { RW_WINDOW } from './phases';
import type { Request } from './request-log';
import type { Partition } from './root-check';
import { touchesPartition } from './scenarios';

// Read-write windows and the cuts they own. A cut is a window's when it
// falls inside one, or when the writes the storage still holds at the cut
// include root writes of one: on a drive that ignores FLUSH a window is
// not over when the root is read-only again (issue 18). Such cuts are counted apart. The
// root a cut outside every window must leave is the root as the last
// window closed it: every write before that close, whole.

export function inWindow(requests: Request[], state: CrashState, root: Partition): boolean {
  return (state.k > 0 && requests[state.k - 1].phase === RW_WINDOW) || state.atRisk.some((i) => requests[i].phase === RW_WINDOW && touchesPartition(requests[i], root));
}

// The request index after the last window that closed before cut K; 0
// when none did.
export function lastClose(requests: Request[], k: number): number {
  for (let i = Math.min(k, requests.length) - 1; i > 0; i--) if (requests[i - 1].phase === RW_WINDOW && requests[i].phase !== RW_WINDOW) return i;
  return 0;
}

// Every write before request `close`, whole, in order.
export function writesBefore(requests: Request[], close: number): Piece[] {
  return requests.slice(0, close).filter((r) => r.op === 'write').map((w) => ({ offset: w.offset, length: w.length, at: w.at as number }));
}
