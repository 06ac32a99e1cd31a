import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
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
  fatal: boolean;
  steps: StepResult[];
  notes: string[];
  configErrors: string[];
  warnings: string[];
}

export const RECORD_DIR = '.roroot';

export function recordPath(root: string, rwMount: string, name: 'boot' | 'persistent'): string {
  return hostPath(root, `${rwMount}/${RECORD_DIR}/${name}.json`);
}

export function writeRecord(root: string, rwMount: string, name: 'boot' | 'persistent', record: BootRecord) {
  const file = recordPath(root, rwMount, name);
  mkdirSync(hostPath(root, `${rwMount}/${RECORD_DIR}`), { recursive: true, mode: 0o755 });
  writeFileSync(`${file}.tmp`, JSON.stringify(record, null, 1) + '\n');
  renameSync(`${file}.tmp`, file);
}

export function readRecord(root: string, rwMount: string, name: 'boot' | 'persistent'): BootRecord | null {
  try {
    return JSON.parse(readFileSync(recordPath(root, rwMount, name), 'utf8')) as BootRecord;
  } catch {
    return null;
  }
}
