import { RECORD_DIR } from '../config/own-paths';
import type { Step } from './steps';

// Pure: is /lib/modules/$(uname -r)/modules.dep current, and if not, the
// step that regenerates it. Seed 004 rebuilt it only when missing, with the
// root read-write for "a few seconds"; depmod -A's rule (any module newer
// than modules.dep) catches a module added or replaced since, too.

export interface ModulesFact {
  release: string; // uname -r
  dir: string; // system path of the release's module directory
  exists: boolean; // the directory is there (a kernel without modules has none)
  dep: { size: number } | null; // modules.dep, null: missing (its age is find's -newer, in the probe)
  newer: string | null; // a module, modules.order or modules.builtin* newer than modules.dep (any, when it is empty)
  error: string | null; // why that could not be found out: modules.dep is then taken as current
}

// What depmod reads besides the modules themselves (top level only).
export const INPUTS = ['modules.order', 'modules.builtin', 'modules.builtin.modinfo'];

// Files depmod writes: never inputs, so never a reason to regenerate.
export const GENERATED = /^modules\.(dep|alias|softdep|symbols|devname|builtin\.alias\.bin|builtin\.bin|weakdep)(\.bin)?$/;

export function modulesDepStale(f: ModulesFact): string | null {
  if (!f.exists) return null;
  if (!f.dep) return 'modules.dep is missing';
  if (f.dep.size === 0 && f.newer) return 'modules.dep is empty';
  if (f.newer) return `${f.newer} is newer than modules.dep`;
  return null;
}

export function planModulesDep(f: ModulesFact, scratch: string): Step[] {
  const why = modulesDepStale(f);
  if (!why) return [];
  return [{ id: 'modules.depmod', phase: 'modules', kind: 'depmod', release: f.release, dir: f.dir, work: `${scratch}/${RECORD_DIR}/depmod`, scratch, fatal: false, why }];
}
