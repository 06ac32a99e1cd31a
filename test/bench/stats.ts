// Figures of a benchmark: several runs of each contender, reported as
// median with min and max (never a mean: one slow outlier on a shared
// machine would move it).

export interface Figure {
  median: number;
  min: number;
  max: number;
  runs: number;
}

export function figure(samples: number[]): Figure {
  if (samples.length === 0) throw new Error('no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median: round(median), min: round(sorted[0]), max: round(sorted[sorted.length - 1]), runs: samples.length };
}

// A ratio of two contenders measured in the same run: the ratio of the
// medians, with the range given by the extremes.
export function ratio(a: Figure, b: Figure): Figure {
  return { median: round(a.median / b.median, 3), min: round(a.min / b.max, 3), max: round(a.max / b.min, 3), runs: Math.min(a.runs, b.runs) };
}

export function difference(a: Figure, b: Figure): Figure {
  return { median: round(a.median - b.median), min: round(a.min - b.max), max: round(a.max - b.min), runs: Math.min(a.runs, b.runs) };
}

function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function show(f: Figure, unit = ''): string {
  return `${f.median}${unit} (${f.min}–${f.max})`;
}
