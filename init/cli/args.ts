import minimist from 'minimist';
import { resolve } from 'node:path';

// minimist, made strict: a flag a command does not know is an error, never
// silently ignored (an admin who typed --dryrun must not get a real boot).

export interface FlagSpec {
  string: string[];
  boolean: string[];
  positional: boolean; // does the command take operands?
  on?: string[]; // booleans that default to true; minimist reads --no-NAME as NAME=false
}

export interface Parsed {
  flags: Record<string, string | boolean | undefined>;
  operands: string[];
}

export function parseFlags(argv: string[], spec: FlagSpec): Parsed | { error: string } {
  const unknown: string[] = [];
  const known = new Set([...spec.string, ...spec.boolean, ...(spec.on ?? []), 'help']);
  const parsed = minimist(argv, {
    string: spec.string,
    boolean: [...spec.boolean, ...(spec.on ?? []), 'help'],
    default: Object.fromEntries((spec.on ?? []).map((name) => [name, true])),
    stopEarly: false,
    '--': true,
    unknown: (arg) => {
      if (arg.startsWith('-')) {
        unknown.push(arg);
        return false;
      }
      return true;
    },
  });
  if (unknown.length > 0) return { error: `unknown option ${unknown[0].split('=')[0]}` };
  for (const name of spec.string) {
    const v = parsed[name];
    if (Array.isArray(v)) return { error: `--${name} given more than once` };
    if (v === '' && argv.some((a) => a === `--${name}`)) return { error: `--${name} needs a value` };
  }
  const operands = [...parsed._.map(String), ...((parsed['--'] as string[] | undefined) ?? [])];
  if (!spec.positional && operands.length > 0) return { error: `unexpected argument "${operands[0]}"` };
  const flags: Parsed['flags'] = {};
  for (const name of known) flags[name] = parsed[name] === '' ? undefined : parsed[name];
  return { flags, operands };
}

export function rootFlag(flags: Parsed['flags']): string {
  return resolve(typeof flags.root === 'string' ? flags.root : '/');
}
