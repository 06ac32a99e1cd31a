import { readdirSync, readFileSync } from 'node:fs';
import { parseCmdline } from '../config/cmdline';
import { CONFIG_FILES, type Config } from '../config/config';
import type { Diagnostic } from '../config/diagnostic';
import { parseFstab } from '../config/fstab';
import { isIgnoredRwtabFile, parseRwtab, type RwtabEntry } from '../config/rwtab';
import { mergeSettings } from '../config/settings';
import { parseShellVars } from '../config/shell-vars';
import { hostPath } from './root-path';

// Reads every config file of the system at `root` and parses it. A missing
// file is simply absent config; an unreadable one is a diagnostic.

export function readText(root: string, path: string, diagnostics: Diagnostic[]): string | null {
  try {
    return readFileSync(hostPath(root, path), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') diagnostics.push({ file: path, line: 0, message: `cannot read: ${code}` });
    return null;
  }
}

// cmdlineText: the kernel command line to use instead of /proc/cmdline
// (`--cmdline`), or null to read /proc/cmdline.
export function readConfig(root: string, cmdlineText: string | null): Config {
  const diagnostics: Diagnostic[] = [];
  const shellFile = (file: string) => ({ file, vars: parseShellVars(file, readText(root, file, diagnostics) ?? '') });
  const merged = mergeSettings([shellFile(CONFIG_FILES.fedora), shellFile(CONFIG_FILES.roroot)]);
  diagnostics.push(...merged.diagnostics);

  const rwtab: RwtabEntry[] = [];
  for (const file of rwtabFiles(root, diagnostics)) {
    const parsed = parseRwtab(file, readText(root, file, diagnostics) ?? '');
    rwtab.push(...parsed.entries);
    diagnostics.push(...parsed.diagnostics);
  }
  const fstab = parseFstab(CONFIG_FILES.fstab, readText(root, CONFIG_FILES.fstab, diagnostics) ?? '');
  diagnostics.push(...fstab.diagnostics);
  // /proc/cmdline is the running kernel's, whatever --root says.
  const cmdline = parseCmdline(cmdlineText ?? readText('/', CONFIG_FILES.cmdline, diagnostics) ?? '');
  diagnostics.push(...cmdline.diagnostics);
  const etcHosts = readText(root, CONFIG_FILES.hosts, diagnostics) ?? '';
  return { settings: merged.settings, rwtab, fstab: fstab.entries, cmdline, etcHosts, diagnostics };
}

// /etc/rwtab, then /etc/rwtab.d/* in the shell's glob order, as rc.sysinit.
function rwtabFiles(root: string, diagnostics: Diagnostic[]): string[] {
  let names: string[] = [];
  try {
    names = readdirSync(hostPath(root, CONFIG_FILES.rwtabDir)).sort();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') diagnostics.push({ file: CONFIG_FILES.rwtabDir, line: 0, message: `cannot read: ${code}` });
  }
  return [CONFIG_FILES.rwtab, ...names.filter((n) => !isIgnoredRwtabFile(n)).map((n) => `${CONFIG_FILES.rwtabDir}/${n}`)];
}
