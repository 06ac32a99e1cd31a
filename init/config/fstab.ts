import { hasControl, quoted, type Diagnostic } from './diagnostic';

// /etc/fstab as fstab(5) and util-linux read it: blank-separated fields
// `spec file vfstype [options [freq [passno]]]`, `#` comments, and octal
// escapes (\040 for a space) inside fields.

export interface FstabEntry {
  spec: string;
  file: string;
  vfstype: string;
  options: string[];
  line: number;
}

export function parseFstab(file: string, text: string): { entries: FstabEntry[]; diagnostics: Diagnostic[] } {
  const entries: FstabEntry[] = [];
  const diagnostics: Diagnostic[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    if (hasControl(trimmed.replace(/\t/g, ' '))) {
      diagnostics.push({ file, line, message: `control characters in the line: ${quoted(trimmed)}` });
      return;
    }
    const fields = trimmed.split(/[ \t]+/).map(unescapeOctal);
    if (fields.length < 3 || fields.length > 6) {
      diagnostics.push({ file, line, message: `expected "spec file vfstype [options [freq [passno]]]", got ${fields.length} fields` });
      return;
    }
    const [spec, mountpoint, vfstype, options = 'defaults'] = fields;
    entries.push({ spec, file: mountpoint, vfstype, options: options.split(','), line });
  });
  return { entries, diagnostics };
}

function unescapeOctal(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

// The options a mount(8) call should get from an fstab line: `defaults`,
// `noauto`/`auto` and `nofail` steer mount -a and boot ordering, not the
// kernel, so they are dropped.
export function mountOptionsOf(entry: FstabEntry): string[] {
  return entry.options.filter((o) => !['defaults', 'noauto', 'auto', 'nofail', ''].includes(o));
}
