import { statfsSync } from 'node:fs';
import { readRecord, readWindows, type BootRecord, type WindowRecord } from './record';
import type { Mount } from './plan/facts';
import { stateFilesPaths } from './plan/plan';
import { formatMs } from './sys/log';
import { readMounts, pathFact } from './sys/probe';
import { readConfig, readText } from './sys/read-config';
import { hostPath } from './sys/root-path';

// `roroot status`: what is mounted where, which paths are volatile or
// persistent and whether they are in place, how full the stores are, and the
// last boot's steps with their durations.

export interface Store {
  name: 'scratch' | 'state' | 'remote';
  mount: string;
  mounted: boolean;
  source: string | null;
  fstype: string | null;
  sizeBytes: number | null;
  freeBytes: number | null;
}

export interface PlaceStatus {
  path: string;
  how: string; // "symlink", "rwtab dirs", "state-files"
  ok: boolean;
  detail: string;
}

export interface Status {
  root: { readOnly: boolean | null; source: string | null; fstype: string | null };
  stores: Store[];
  places: PlaceStatus[];
  lastBoot: BootRecord | null;
  persistentRetry: BootRecord | null;
  windows: WindowRecord[]; // read-write windows of / since boot, oldest first
}

export function collectStatus(root: string): Status {
  const config = readConfig(root, null);
  const s = config.settings;
  const mounts = readMounts(root);
  const top = (target: string): Mount | undefined => mounts.filter((m) => m.target === target).pop();
  const rootMount = top('/');
  const store = (name: Store['name'], mount: string): Store => {
    const m = top(mount);
    let sizeBytes: number | null = null;
    let freeBytes: number | null = null;
    if (m) {
      try {
        const st = statfsSync(hostPath(root, mount));
        sizeBytes = st.blocks * st.bsize;
        freeBytes = st.bavail * st.bsize;
      } catch {
        // an NFS server that stopped answering: leave the figures out
      }
    }
    return { name, mount, mounted: !!m, source: m?.source ?? null, fstype: m?.fstype ?? null, sizeBytes, freeBytes };
  };
  const stores = [store('scratch', s.rwMount), store('state', s.stateMount)];
  if (s.remote) stores.push(store('remote', s.remoteMount));

  const places: PlaceStatus[] = [];
  const link = (path: string, target: string, how: string) => {
    const fact = pathFact(root, path);
    const ok = fact.kind === 'symlink' && fact.link === target && fact.follows === 'dir';
    const detail = fact.kind !== 'symlink' ? `is a ${fact.kind}` : fact.link !== target ? `points to ${fact.link}` : fact.follows !== 'dir' ? `${target} is missing` : `-> ${target}`;
    places.push({ path, how, ok, detail });
  };
  const bound = (path: string, how: string) => {
    const resolved = pathFact(root, path).resolved;
    if (!resolved) {
      places.push({ path, how, ok: true, detail: 'does not exist, skipped as rwtab says' });
      return;
    }
    const ok = !!top(resolved);
    places.push({ path, how, ok, detail: ok ? `bind-mounted${resolved !== path ? ` at ${resolved}` : ''}` : 'not mounted' });
  };
  for (const p of s.volatile) link(p, s.rwMount + p, 'volatile symlink');
  for (const e of config.rwtab) bound(e.path, `rwtab ${e.mode}`);
  for (const p of s.persistent) link(p, s.remoteMount + p, 'persistent symlink (REMOTE)');
  if (top(s.stateMount)) {
    for (const p of stateFilesPaths(readText(root, `${s.stateMount}/files`, []) ?? '')) bound(p, 'persistent (state files)');
  }
  return {
    root: { readOnly: rootMount ? rootMount.options.includes('ro') : null, source: rootMount?.source ?? null, fstype: rootMount?.fstype ?? null },
    stores,
    places,
    lastBoot: readRecord(root, s.rwMount, 'boot'),
    persistentRetry: readRecord(root, s.rwMount, 'persistent'),
    windows: readWindows(root, s.rwMount),
  };
}

function size(bytes: number | null): string {
  if (bytes === null) return '?';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v < 10 && u > 0 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

export function renderStatus(st: Status): string {
  const lines: string[] = [];
  lines.push(`root      ${st.root.source ?? '?'} (${st.root.fstype ?? '?'}) ${st.root.readOnly === null ? 'not mounted?' : st.root.readOnly ? 'read-only' : 'READ-WRITE'}`);
  for (const s of st.stores) {
    lines.push(
      s.mounted
        ? `${s.name.padEnd(9)} ${s.mount}: ${s.source} (${s.fstype}), ${size(s.freeBytes)} free of ${size(s.sizeBytes)}`
        : `${s.name.padEnd(9)} ${s.mount}: not mounted`,
    );
  }
  if (st.places.length > 0) {
    lines.push('', 'writable places:');
    for (const p of st.places) lines.push(`  ${p.ok ? 'ok ' : 'BAD'} ${p.path.padEnd(28)} ${p.how}: ${p.detail}`);
  }
  for (const [title, rec] of [['last boot', st.lastBoot], ['background NFS retry', st.persistentRetry]] as const) {
    if (!rec) continue;
    lines.push('', `${title}: ${rec.started}, ${rec.active ? 'on' : 'off'} (${rec.reason}), ${formatMs(rec.totalMs)} ms${rec.fatal ? ', FATAL' : ''}`);
    for (const r of rec.steps) {
      lines.push(`  ${r.status.padEnd(7)} ${formatMs(r.ms).padStart(7)} ms  ${r.phase.padEnd(11)} ${r.command}${r.error ? `: ${r.error}` : ''}`);
    }
    for (const e of rec.configErrors ?? []) lines.push(`  config: ${e}`);
    for (const w of rec.warnings) lines.push(`  warning: ${w}`);
  }
  const last = st.windows[st.windows.length - 1];
  if (last) {
    const writes = last.writes ? `, ${last.writes.ios} writes (${last.writes.sectors / 2} KiB)` : '';
    const outcome = { open: 'OPEN NOW (or its owner died)', closed: 'closed', 'left-writable': 'LEFT WRITABLE', 'already-writable': '/ was writable already' }[last.outcome];
    lines.push('', `last rw window: ${last.label}: ${formatMs(last.ms)} ms${writes}, ${outcome}, at ${last.started} (${st.windows.length} since boot)`);
  } else lines.push('', 'last rw window: none since boot');
  if (!st.lastBoot) lines.push('', 'last boot: no record (roroot did not run, or the scratch space is not mounted)');
  return lines.join('\n');
}
