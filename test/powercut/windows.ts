import type { CrashState, Piece } from './crash-state';
import { RW_WINDOW } from './phases';
import type { Request } from './request-log';
import type { Partition } from './root-check';
import { touchesPartition } from './scenarios';

// Read-write windows of a run and the cuts they own. A cut is a window's
// when it falls inside one, or when the writes the storage still holds at
// the cut include root writes of one: on a drive that ignores FLUSH a
// window is not over when the root is read-only again (issue 18). Such
// cuts are counted apart. The root a cut outside every window must leave
// is the root as the last window closed it: every write before that close,
// whole. The boot of a crash state whose root the kernel recovers at mount
// (a journal, orphans) starts with that recovery as a window of its own:
// it finishes the window the first cut fell in.

export class Windows {
  private readonly mountEnd: number; // the recovery at mount: requests [0, mountEnd)

  constructor(
    private readonly requests: Request[],
    private readonly root: Partition,
    recoveryAtMount = false,
  ) {
    const first = requests.find((r) => r.op === 'write' && !touchesPartition(r, root));
    this.mountEnd = recoveryAtMount ? (first?.i ?? requests.length) : 0;
  }

  // The cut falls while a window is open.
  inside(k: number): boolean {
    return k > 0 && (k <= this.mountEnd || this.requests[k - 1].phase === RW_WINDOW);
  }

  owns(state: CrashState): boolean {
    const windowWrite = (r: Request) => (r.phase === RW_WINDOW || r.i < this.mountEnd) && touchesPartition(r, this.root);
    return this.inside(state.k) || state.atRisk.some((i) => windowWrite(this.requests[i]));
  }

  // The request index after the last window that closed before cut K; 0
  // when none did.
  close(k: number): number {
    for (let i = Math.min(k, this.requests.length) - 1; i > this.mountEnd; i--) if (this.requests[i - 1].phase === RW_WINDOW && this.requests[i].phase !== RW_WINDOW) return i;
    return k > this.mountEnd ? this.mountEnd : 0;
  }
}

// Every write before request `close`, whole, in order.
export function writesBefore(requests: Request[], close: number): Piece[] {
  return requests.slice(0, close).filter((r) => r.op === 'write').map((w) => ({ offset: w.offset, length: w.length, at: w.at as number }));
}
