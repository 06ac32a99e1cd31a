import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseBoard, type Board } from '../config/board';
import { formatDiagnostic } from '../config/diagnostic';

// A board given by name is looked up beside the bundle (a checkout's
// board/) and where the package keeps them; a path is read as it is.
const BOARD_DIRS = [join(dirname(process.argv[1] ?? '.'), '../board'), '/usr/share/roroot/board'];

export function loadBoard(nameOrPath: string, say: (l: string) => void): Board | null {
  const files = nameOrPath.includes('/') || nameOrPath.endsWith('.conf') ? [nameOrPath] : BOARD_DIRS.map((d) => join(d, `${nameOrPath}.conf`));
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const { board, diagnostics } = parseBoard(basename(file, '.conf'), file, text);
    for (const d of diagnostics) say(`board: ${formatDiagnostic(d)}`);
    return board;
  }
  say(`board: no profile ${nameOrPath} (looked in ${files.join(', ')})`);
  return null;
}

// For the image builder and the QEMU tools, which cannot go on without
// the board: its problems, if any, as one error.
export function requireBoard(nameOrPath: string): Board {
  const problems: string[] = [];
  const board = loadBoard(nameOrPath, (line) => problems.push(line));
  if (!board) throw new Error(problems.join('\n'));
  return board;
}
