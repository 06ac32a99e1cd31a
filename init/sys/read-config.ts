import { readdirSync, readFileSync } from 'node:fs';
import { assembleConfig, CONFIG_FILES, type Config } from '../config/config';
import type { Diagnostic } from '../config/diagnostic';
import { hostPath } from './root-path';

// Reads every config file of the system at `root`. A missing file is simply
// absent config; an unreadable one is a diagnostic.

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
  let names: string[] = [];
  try {
    names = readdirSync(hostPath(root, CONFIG_FILES.rwtabDir));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') diagnostics.push({ file: CONFIG_FILES.rwtabDir, line: 0, message: `cannot read: ${code}` });
  }
  // /proc/cmdline is the running kernel's, whatever --root says.
  const cmdline = cmdlineText ?? readText('/', CONFIG_FILES.cmdline, diagnostics) ?? '';
  const config = assembleConfig((path) => readText(root, path, diagnostics), names, cmdline);
  config.diagnostics.unshift(...diagnostics);
  return config;
}
