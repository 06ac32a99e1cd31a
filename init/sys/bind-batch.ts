import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isUnder } from '../config/system-path';
import type { Step } from '../plan/steps';
import { readMounts } from './probe';
import { run } from './spawn';

// Many bind mounts in one process. Fedora's rwtab is ~45 binds; one
// `mount --bind` each cost ~6 ms of spawn and libmount start-up, 270 ms of
// a boot whose peer (rc.sysinit) takes ~200 ms in all. util-linux mounts
// every line of an fstab it is given with `mount -a -T FILE` in one process,
// so the binds of a batch are written as one fstab and mounted at once.

export type Bind = Extract<Step, { kind: 'bind' }>;

// The run of rwtab binds starting at steps[i] that can be mounted together:
// no step in it waits for another's result, has a fallback to run instead,
// or lies under another's target (its copy must see that bind first). Only
// rwtab's: their fstab is written on the scratch they bind from, and the
// state's few binds must not write on the state.
export function bindBatch(steps: Step[], i: number): Bind[] {
  const batch: Bind[] = [];
  for (let j = i; j < steps.length; j++) {
    const s = steps[j];
    if (s.kind !== 'bind' || s.phase !== 'rwtab' || s.needs || s.fallback || s.fatal) break;
    if (batch.some((b) => isUnder(s.target, b.target) || isUnder(b.target, s.target))) break;
    batch.push(s);
  }
  return batch;
}

// fstab(5) escapes: a space, tab, newline or backslash inside a field.
function field(path: string): string {
  return path.replace(/[\\ \t\n]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

export function bindFstab(binds: { source: string; target: string; options: string[] }[]): string {
  return binds.map((b) => `${field(b.source)} ${field(b.target)} none ${['bind', ...b.options].join(',')} 0 0\n`).join('');
}

export interface HostBind {
  target: string; // system path
  hostSource: string; // as this process sees them (under --root DIR)
  hostTarget: string;
  options: string[];
}

// Mounts them all; returns the error, by system target, of each that is
// not mounted afterwards (mount's own line, "mount: TARGET: REASON.").
export async function mountAll(binds: HostBind[], fstabDir: string, root: string): Promise<Map<string, string>> {
  mkdirSync(fstabDir, { recursive: true });
  const file = join(fstabDir, 'binds.fstab');
  writeFileSync(file, bindFstab(binds.map((b) => ({ source: b.hostSource, target: b.hostTarget, options: b.options }))));
  const result = await run('mount', ['-n', '-a', '-T', file]);
  const said = new Map<string, string>();
  for (const line of result.stderr.split('\n')) {
    const m = /^mount: (.+?): (.*?)\.?$/.exec(line.trim());
    if (m) said.set(m[1], m[2]);
  }
  const mounted = new Set(readMounts(root).map((m) => m.target));
  const failed = new Map<string, string>();
  for (const b of binds) {
    if (!mounted.has(b.target)) failed.set(b.target, said.get(b.hostTarget) ?? `not mounted (mount -a exit ${result.code})`);
  }
  return failed;
}
