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

// Text from a file or a store as it may be shown on the console, the kernel
// log and the boot record: control bytes (an escape sequence, a NUL, a
// carriage return that rewrites the line) written out as \xNN, and cut at
// `max` characters. A hostile store's files list must not paint the serial
// console, and a config line of a megabyte must not fill the kernel log.
export function printable(text: string, max = 200): string {
  let out = '';
  let n = 0;
  for (const c of text) {
    if (n === max) return out + '…';
    const code = c.codePointAt(0) as number;
    out += code < 0x20 || (code >= 0x7f && code < 0xa0) ? `\\x${code.toString(16).padStart(2, '0')}` : c;
    n++;
  }
  return out;
}

// C0 and C1 control characters: a config value or a path holding one is
// refused where it is read.
export function hasControl(text: string): boolean {
  return /[\x00-\x1f\x7f-\x9f]/.test(text);
}

// A value quoted inside a message: `got "…"`.
export function quoted(value: string, max = 60): string {
  return `"${printable(value, max)}"`;
}
