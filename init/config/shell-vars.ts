import { quoted, type Diagnostic } from './diagnostic';

// Reads the shell-style `KEY=value` files that Fedora's rc.sysinit sources
// (/etc/sysconfig/readonly-root) and roroot's own /etc/roroot.conf. We never
// run them through a shell: a config file that can execute code at boot is a
// config file that can brick a router. What a sourced file can legitimately
// contain is a subset we can read exactly: comments, blank lines, an optional
// `export `, and a value that is bare, 'single-quoted' or "double-quoted"
// (with \" \\ \$ \` escapes), possibly followed by a comment.

export interface ShellVars {
  values: Map<string, { value: string; line: number }>;
  diagnostics: Diagnostic[];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function parseShellVars(file: string, text: string): ShellVars {
  const values = new Map<string, { value: string; line: number }>();
  const diagnostics: Diagnostic[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const body = trimmed.startsWith('export ') ? trimmed.slice(7).trimStart() : trimmed;
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    if (eq < 0 || !NAME.test(name)) {
      diagnostics.push({ file, line, message: `expected KEY=value, got ${quoted(trimmed)}` });
      return;
    }
    const value = readValue(body.slice(eq + 1));
    if (typeof value !== 'string') {
      diagnostics.push({ file, line, message: `${name}: ${value.error}` });
      return;
    }
    values.set(name, { value, line });
  });
  return { values, diagnostics };
}

function readValue(s: string): string | { error: string } {
  let out = '';
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c === ' ' || c === '\t') {
      const rest = s.slice(i).trimStart();
      if (rest === '' || rest.startsWith('#')) return out;
      return { error: `unquoted space in value (quote it: ${quoted(s.trim())})` };
    }
    if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) return { error: 'unterminated single quote' };
      out += s.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      i++;
      for (;;) {
        if (i >= s.length) return { error: 'unterminated double quote' };
        const d = s[i];
        if (d === '"') break;
        if (d === '\\' && i + 1 < s.length && '"\\$`'.includes(s[i + 1])) {
          out += s[i + 1];
          i += 2;
        } else if (d === '$' || d === '`') {
          return { error: 'shell expansion ($ or `) is not supported; write the value out' };
        } else {
          out += d;
          i++;
        }
      }
      i++;
    } else if (c === '$' || c === '`' || c === ';' || c === '|' || c === '&' || c === '(' || c === ')') {
      return { error: `shell syntax ${quoted(c)} is not supported; write the value out` };
    } else if (c === '\\' && i + 1 < s.length) {
      out += s[i + 1];
      i += 2;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}
