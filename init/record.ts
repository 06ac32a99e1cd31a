import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { RECORD_DIR } from './config/own-paths';
import type { StepResult } from './sys/execute';
import { hostPath } from './sys/root-path';

// What the last boot did, kept on the scratch space (the one place boot can
// always write, and one that does not outlive the boot it describes) for
// `roroot status`. The background NFS retry keeps its own record beside it.

export interface BootRecord {
  version: string;
  started: string; // ISO time
  active: boolean;
  reason: string;
  totalMs: number;
  atMs: number; // when the stage started, on its steps' clock (StepResult.atMs)
  fatal: boolean;
  steps: StepResult[];
  notes: string[];
  configErrors: string[];
  warnings: string[];
  degraded: boolean;
  reasons: Reason[];
}

// Why a boot is degraded: each one was a warning or an error on the
// console and in the kernel log. `step`: the NFS mount retried in the
// background whose success clears it.
export interface Reason {
  text: string;
  step?: string;
}

// One read-write window of the root (modules.dep at boot, `roroot rw`).
export interface WindowRecord {
  label: string;
  started: string; // ISO time
  ms: number; // from the remount rw to the end of the remount ro
  writes: { ios: number; sectors: number } | null; // to the root's device meanwhile, when countable
  // 'open' while it runs: found so later, its owner died (SIGKILL, a crash)
  outcome: 'open' | 'closed' | 'left-writable' | 'already-writable';
}

const WINDOWS_KEPT = 20;

type RecordName = 'boot' | 'persistent' | 'windows';

export function recordPath(root: string, rwMount: string, name: RecordName): string {
  return hostPath(root, `${rwMount}/${RECORD_DIR}/${name}.json`);
}

// Written beside and renamed over, so that a reader never sees half a file.
function writeJson(root: string, rwMount: string, name: RecordName, value: unknown) {
  const file = recordPath(root, rwMount, name);
  mkdirSync(hostPath(root, `${rwMount}/${RECORD_DIR}`), { recursive: true, mode: 0o755 });
  writeFileSync(`${file}.tmp`, JSON.stringify(value, null, 1) + '\n');
  renameSync(`${file}.tmp`, file);
}

function readJson<T>(root: string, rwMount: string, name: RecordName): T | null {
  try {
    return JSON.parse(readFileSync(recordPath(root, rwMount, name), 'utf8')) as T;
  } catch {
    return null;
  }
}

export function writeRecord(root: string, rwMount: string, name: 'boot' | 'persistent', record: BootRecord) {
  writeJson(root, rwMount, name, record);
}

export function readRecord(root: string, rwMount: string, name: 'boot' | 'persistent'): BootRecord | null {
  return readJson<BootRecord>(root, rwMount, name);
}

// Windows since this boot (the scratch is re-made at each), newest last.
export function readWindows(root: string, rwMount: string): WindowRecord[] {
  return readJson<WindowRecord[]>(root, rwMount, 'windows') ?? [];
}

// `replaceLast`: the window recorded as 'open' has ended.
export function recordWindow(root: string, rwMount: string, window: WindowRecord, replaceLast: boolean) {
  const before = readWindows(root, rwMount);
  writeJson(root, rwMount, 'windows', [...(replaceLast ? before.slice(0, -1) : before), window].slice(-WINDOWS_KEPT));
}
