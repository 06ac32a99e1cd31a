import { quoted, type Diagnostic } from './diagnostic';
import { checkSystemPath } from './system-path';

// Fedora's rwtab: one `TYPE PATH` per line, TYPE one of
//   empty  the path itself is recreated on the scratch space, not its content
//   dirs   the path's directory tree is recreated, without the files in it
//   files  the path is copied with everything under it
// then the scratch copy is bind-mounted over the original (seed 000).
// rc.sysinit reads it with `while read type path`: fields split on any run of
// blanks, and a line whose type is unknown is silently ignored. We report
// such lines instead, because a typo there silently leaves a path read-only.

export type RwtabMode = 'empty' | 'dirs' | 'files';

export interface RwtabEntry {
  mode: RwtabMode;
  path: string;
  file: string;
  line: number;
}

const MODES: readonly string[] = ['empty', 'dirs', 'files'];

export function parseRwtab(file: string, text: string): { entries: RwtabEntry[]; diagnostics: Diagnostic[] } {
  const entries: RwtabEntry[] = [];
  const diagnostics: Diagnostic[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    const fields = raw.trim().split(/[ \t]+/);
    if (fields[0] === '' || fields[0].startsWith('#')) return;
    const [mode, path, ...extra] = fields;
    if (!MODES.includes(mode)) {
      diagnostics.push({ file, line, message: `expected "empty", "dirs" or "files" then a path, got ${quoted(raw.trim())}` });
      return;
    }
    if (path === undefined) {
      diagnostics.push({ file, line, message: `${quoted(mode)} needs a path` });
      return;
    }
    if (extra.length > 0) {
      diagnostics.push({ file, line, message: `expected one path after ${quoted(mode)}, got ${quoted(fields.slice(1).join(' '))}` });
      return;
    }
    const bad = checkSystemPath(path);
    if (bad) {
      diagnostics.push({ file, line, message: bad });
      return;
    }
    entries.push({ mode: mode as RwtabMode, path, file, line });
  });
  return { entries, diagnostics };
}

// rc.sysinit's is_ignored_file: package managers' leftovers in /etc/rwtab.d
// are not read.
const IGNORED = ['~', '.bak', '.orig', '.rpmnew', '.rpmorig', '.rpmsave', '.dpkg-old', '.dpkg-new', '.dpkg-dist', '.dpkg-tmp'];

export function isIgnoredRwtabFile(name: string): boolean {
  return IGNORED.some((suffix) => name.endsWith(suffix));
}
