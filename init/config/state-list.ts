import type { Diagnostic } from './diagnostic';
import { checkSystemPath, normalizeSystemPath } from './system-path';

// The `files` list of a persistent state (seed 000: `grep -v "^#"
// $STATE_MOUNT/files`): one absolute path per line, `#` comments. It comes
// from the store, which is data and may be hostile: a line is never echoed
// whole (a list swapped for a copy of a password file must not print its
// hashes on the console), and what it names is only a request that the
// router's own policy decides on (plan/store-policy.ts).

export interface StateListEntry {
  path: string; // normalized
  line: number;
}

// The largest list read. Fedora's lists are a few lines; a store that
// offers megabytes is not a list.
export const STATE_LIST_MAX_BYTES = 64 * 1024;

export function parseStateList(file: string, text: string): { entries: StateListEntry[]; diagnostics: Diagnostic[] } {
  const entries: StateListEntry[] = [];
  const diagnostics: Diagnostic[] = [];
  const seen = new Set<string>();
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const bad = trimmed.length > 4096 ? 'a path longer than 4096 bytes' : checkSystemPath(trimmed);
    if (bad) {
      diagnostics.push({ file, line, message: bad });
      return;
    }
    const path = normalizeSystemPath(trimmed);
    if (seen.has(path)) return; // listed twice: bound once
    seen.add(path);
    entries.push({ path, line });
  });
  return { entries, diagnostics };
}
