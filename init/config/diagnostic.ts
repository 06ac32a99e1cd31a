// A problem found in a config file. Parsers never throw on bad input: they
// return what they could read plus one Diagnostic per line they skipped, and
// boot logs each one and goes on (a router that does not come up is worse
// than one that ignores a typo).

export interface Diagnostic {
  file: string;
  line: number; // 1-based; 0 when the problem is about the whole file
  message: string;
}

export function formatDiagnostic(d: Diagnostic): string {
  return d.line > 0 ? `${d.file}:${d.line}: ${d.message}` : `${d.file}: ${d.message}`;
}
