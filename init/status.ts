import { statfsSync } from 'node:fs';
import { parseStateList } from './config/state-list';
import { checkAll, placesOf } from './places/place';
import type { PlaceCheck } from './places/types';
import { activation } from './plan/plan';
import { mountAt, topMount, type Mount } from './plan/facts';
import { readRecord, readWindows, type BootRecord, type WindowRecord } from './record';
import { formatMs } from './sys/log';
import { localFacts, readMounts } from './sys/probe';
import { readConfig } from './sys/read-config';
import { readStateList } from './sys/read-state-list';
import { hostPath } from './sys/root-path';
import { wantedPaths } from './plan/wanted';

// `roroot status`: DEGRADED and why, first; then what is mounted where, how
// full the stores are, every writable place as its own kind checks it
// (places/: the same decisions the plan made), and the last boot's steps
// with their durations. Exit 1 when degraded.

export interface Store {
  name: 'scratch' | 'state' | 'remote';
  mount: string;
  mounted: boolean;
  source: string | null;
  fstype: string | null;
  sizeBytes: number | null;
  freeBytes: number | null;
}

export interface Status {
  degraded: boolean;
  reasons: string[];
  root: { readOnly: boolean | null; source: string | null; fstype: string | null };
  stores: Store[];
  places: PlaceCheck[];
  lastBoot: BootRecord | null;
  persistentRetry: BootRecord | null;
  windows: WindowRecord[]; // read-write windows of / since boot, oldest first
}

// A scratch this full is about to refuse writes: logs, leases, pid files.
const FULL = 0.9;

export function collectStatus(root: string): Status {
  const config = readConfig(root, null);
  const s = config.settings;
  const mounts = readMounts(root);
  const store = (name: Store['name'], mount: string): Store => {
    const m = topMount(mounts, mount);
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

  const list = topMount(mounts, s.stateMount) ? readStateList(root, s.stateMount) : null;
  const entries = list && 'text' in list ? parseStateList(`${s.stateMount}/files`, list.text).entries : [];
  const stateFiles = entries.map((e) => ({ kind: 'state-file' as const, path: e.path, where: `${s.stateMount}/files:${e.line}` }));
  const facts = localFacts(root, [...wantedPaths(config), ...entries.map((e) => e.path)]);
  const places = checkAll(placesOf(config, stateFiles), { config, facts });

  const lastBoot = readRecord(root, s.rwMount, 'boot');
  const persistentRetry = readRecord(root, s.rwMount, 'persistent');
  const rootMount = mountAt(facts, '/');
  return {
    ...degraded(activation(config).active, rootMount, stores, places, lastBoot, persistentRetry),
    root: { readOnly: rootMount ? rootMount.options.includes('ro') : null, source: rootMount?.source ?? null, fstype: rootMount?.fstype ?? null },
    stores,
    places,
    lastBoot,
    persistentRetry,
    windows: readWindows(root, s.rwMount),
  };
}

// The last boot's reasons (less those of NFS mounts the background retry
// has made since), and what is wrong now: a place not in place, / writable
// while roroot should keep it read-only, a scratch about to fill up.
function degraded(active: boolean, rootMount: Mount | undefined, stores: Store[], places: PlaceCheck[], boot: BootRecord | null, retry: BootRecord | null): { degraded: boolean; reasons: string[] } {
  const cleared = new Set(retry && !retry.degraded ? (boot?.reasons ?? []).filter((r) => r.step).map((r) => r.step) : []);
  const reasons = (boot?.reasons ?? []).filter((r) => !r.step || !cleared.has(r.step)).map((r) => r.text);
  if (retry?.degraded) for (const r of retry.reasons) if (!reasons.includes(r.text)) reasons.push(`background retry: ${r.text}`);
  if (!boot && active) reasons.push('no boot record: roroot did not run at boot, or the scratch space is not mounted');
  if (active && rootMount && !rootMount.options.includes('ro')) reasons.push('/ is mounted read-write: a power cut can damage it');
  for (const p of places) if (!p.ok) reasons.push(`${p.path}: ${p.how}: ${p.detail}`);
  for (const st of stores) {
    if (st.sizeBytes && st.freeBytes !== null && st.name === 'scratch' && 1 - st.freeBytes / st.sizeBytes >= FULL) {
      reasons.push(`${st.name} ${st.mount} is ${Math.round(100 * (1 - st.freeBytes / st.sizeBytes))}% full`);
    }
  }
  return { degraded: reasons.length > 0, reasons };
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
  if (st.degraded) lines.push('DEGRADED:', ...st.reasons.map((r) => `  ${r}`), '');
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
    for (const p of st.places) lines.push(`  ${p.ok ? 'ok ' : 'BAD'} ${p.path.padEnd(28)} ${p.how}: ${p.state === 'in place' ? '' : `${p.state}: `}${p.detail}`);
  }
  for (const [title, rec] of [['last boot', st.lastBoot], ['background NFS retry', st.persistentRetry]] as const) {
    if (!rec) continue;
    lines.push('', `${title}: ${rec.started}, ${rec.active ? 'on' : 'off'} (${rec.reason}), ${formatMs(rec.totalMs)} ms${rec.fatal ? ', FATAL' : ''}`);
    for (const r of rec.steps) {
      lines.push(`  ${r.status.padEnd(7)} ${formatMs(r.ms).padStart(7)} ms  ${r.phase.padEnd(11)} ${r.command}${r.error ? `: ${r.error}` : ''}`);
    }
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
