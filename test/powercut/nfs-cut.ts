import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { Guest } from '../../board/guest';
import type { NfsServer } from '../../board/nfs-server';

// The nfs scenario's live cut: a writer in the guest appends numbered
// records to a file on the NFS export, fsyncs each, and prints `ACK n`
// only after fsync returned. Midway the NFS server is stopped and started
// again (SIGKILL: a crash, not a shutdown); then the router loses power
// (QEMU killed). Every record the console acknowledged must be on the export.

export const RECORDS_ON_EXPORT = 'var/lib/roroot-data/records';

export interface NfsCut {
  acked: number; // the last ACK the console showed
  missing: number[]; // acknowledged records the export does not have
}

function writer(file: string): string {
  return `mkdir -p ${posix.dirname(file)}; i=$(cat ${file} 2>/dev/null | wc -l); while [ $i -lt 100000 ]; do i=$((i+1)); printf 'record %d\\n' $i | dd of=${file} oflag=append conv=notrunc,fsync status=none && echo "ACK $i"; done`;
}

function recordsOnExport(nfs: NfsServer): Set<string> {
  const path = join(nfs.exportDir, RECORDS_ON_EXPORT);
  return new Set(existsSync(path) ? readFileSync(path, 'utf8').split('\n') : []);
}

// `before` and `after`: records written around the server's restart.
export async function nfsCut(guest: Guest, file: string, nfs: NfsServer, before = 15, after = 15, onRestart: () => void = () => {}): Promise<NfsCut> {
  const start = recordsOnExport(nfs).size;
  guest.type(writer(file));
  const acks = () => [...guest.console.matchAll(/^ACK (\d+)$/gm)].map((m) => Number(m[1])).pop() ?? 0;
  await guest.expect(new RegExp(`^ACK ${start + before}$`, 'm'), 300);
  onRestart();
  await nfs.restart('SIGKILL');
  await guest.expect(new RegExp(`^ACK ${start + before + after}$`, 'm'), 300);
  // A moment later, not at an ACK: the cut lands anywhere in a record.
  await new Promise((r) => setTimeout(r, Math.random() * 1500));
  guest.kill();
  const acked = acks();
  await new Promise((r) => setTimeout(r, 500));
  const there = recordsOnExport(nfs);
  const missing = Array.from({ length: acked }, (_, i) => i + 1).filter((n) => !there.has(`record ${n}`));
  return { acked, missing };
}
