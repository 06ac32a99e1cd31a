import { plainText } from '../../board/guest';
import type { Request } from './request-log';

// What the guest is doing, from its serial console: the harness's own
// scenario scripts print `roroot-phase: NAME`, and roroot announces each
// read-write window (`roroot: rw-window: LABEL: opening`, then
// `roroot: rw-window: LABEL (N ms, ...)` once / is read-only again).
// Inside a window the phase is `rw-window`, whatever the scenario.

export const RW_WINDOW = 'rw-window';

const MARKER = /roroot-phase: ([a-z0-9-]+)\s*$/;
const OPENING = /roroot: rw-window: .+: opening$/;
const CLOSED = /roroot: rw-window: .+ \([\d.]+ ms[,)]/;

export class PhaseTracker {
  private partial = '';
  private scenario: string;
  private windowOpen = false;

  constructor(
    first: string,
    private readonly changed: (phase: string) => void,
  ) {
    this.scenario = first;
  }

  get phase(): string {
    return this.windowOpen ? RW_WINDOW : this.scenario;
  }

  // Console output in any chunks; lines are judged whole.
  feed(chunk: string) {
    const lines = (this.partial + plainText(chunk)).split('\n');
    this.partial = lines.pop() as string;
    for (const line of lines) this.line(line);
  }

  private line(line: string) {
    const before = this.phase;
    const m = MARKER.exec(line);
    // The shell echoes what the harness types: only a line that is the
    // marker alone (the output of echo) counts.
    if (m && line.trim() === m[0].trim()) this.scenario = m[1];
    else if (OPENING.test(line)) this.windowOpen = true;
    else if (CLOSED.test(line)) this.windowOpen = false;
    if (this.phase !== before) this.changed(this.phase);
  }
}

// A run's phases as spans of time (ms since power-on): the report's timeline.
export function phaseSpans(requests: Request[]): { phase: string; from: number; to: number }[] {
  const out: { phase: string; from: number; to: number }[] = [];
  for (const r of requests) {
    const last = out[out.length - 1];
    if (last && last.phase === r.phase) last.to = r.t;
    else out.push({ phase: r.phase, from: r.t, to: r.t });
  }
  return out;
}
