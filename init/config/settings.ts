import type { Diagnostic } from './diagnostic';
import type { ShellVars } from './shell-vars';
import { checkSystemPath, normalizeSystemPath } from './system-path';

// The typed settings boot runs on, merged from Fedora's
// /etc/sysconfig/readonly-root (read unchanged, so a Fedora-style image keeps
// working) and roroot's /etc/roroot.conf, which wins key by key.

export type ScratchFstype = 'ext2' | 'ext3' | 'ext4';

export interface Settings {
  readonly: boolean; // READONLY
  temporaryState: boolean; // TEMPORARY_STATE
  rwMount: string; // RW_MOUNT: where the scratch space is mounted
  rwDevice: string | null; // RW_DEVICE: /dev/..., LABEL=, UUID= or PARTUUID=
  rwLabel: string | null; // RW_LABEL: scratch partition found by label
  rwFstype: ScratchFstype; // RW_FSTYPE: what mkfs makes at every boot
  rwOptions: string[]; // RW_OPTIONS
  rwMaster: string; // RW_MASTER: the master copy the scratch is filled from
  volatile: string[]; // VOLATILE: root paths that are symlinks into RW_MOUNT
  stateMount: string; // STATE_MOUNT
  stateLabel: string | null; // STATE_LABEL
  stateOptions: string[]; // STATE_OPTIONS
  clientState: string | null; // CLIENTSTATE: server:/dir, state at dir/$HOSTNAME
  remote: string | null; // REMOTE: server:/export mounted at REMOTE_MOUNT
  remoteMount: string; // REMOTE_MOUNT
  remoteMaster: string; // REMOTE_MASTER: first content of PERSISTENT dirs, seeded into REMOTE
  remoteOptions: string[]; // REMOTE_OPTIONS
  persistent: string[]; // PERSISTENT: root paths that are symlinks into REMOTE_MOUNT
  devtmpfs: boolean; // DEVTMPFS: no for boards whose /dev is static nodes on the root
  slaveMounts: boolean; // SLAVE_MOUNTS: rwtab binds get slave propagation
  nfsTimeoutSec: number; // NFS_TIMEOUT: how long boot waits for one NFS mount
}

export const DEFAULTS: Settings = {
  readonly: true,
  temporaryState: false,
  rwMount: '/var/lib/roroot/volatile',
  rwDevice: null,
  rwLabel: 'roroot-rw',
  rwFstype: 'ext4',
  rwOptions: [],
  rwMaster: '/var/lib/roroot/volatile.ini',
  volatile: [],
  stateMount: '/var/lib/roroot/state',
  stateLabel: 'roroot-state',
  stateOptions: [],
  clientState: null,
  remote: null,
  remoteMount: '/var/lib/roroot/remote',
  remoteMaster: '/var/lib/roroot/persistent.ini',
  remoteOptions: [],
  persistent: [],
  devtmpfs: true,
  slaveMounts: false,
  nfsTimeoutSec: 10,
};

type Reader = (raw: string) => { ok: unknown } | { error: string };

const yesNo: Reader = (raw) => {
  const v = raw.toLowerCase();
  if (['yes', 'true', '1', 'on'].includes(v)) return { ok: true };
  if (['no', 'false', '0', 'off'].includes(v)) return { ok: false };
  return { error: `expected yes or no, got "${raw}"` };
};
const path: Reader = (raw) => {
  const bad = checkSystemPath(raw);
  return bad ? { error: bad } : { ok: normalizeSystemPath(raw) };
};
const paths: Reader = (raw) => {
  const out: string[] = [];
  for (const p of raw.split(/[ \t]+/).filter(Boolean)) {
    const bad = checkSystemPath(p);
    if (bad) return { error: bad };
    out.push(normalizeSystemPath(p));
  }
  return { ok: out };
};
const text: Reader = (raw) => ({ ok: raw });
const options: Reader = (raw) => ({ ok: raw.split(',').map((o) => o.trim()).filter(Boolean) });
const device: Reader = (raw) =>
  raw.startsWith('/dev/') || /^(LABEL|UUID|PARTUUID|PARTLABEL)=./.test(raw)
    ? { ok: raw }
    : { error: `expected /dev/..., LABEL=, UUID=, PARTUUID= or PARTLABEL=, got "${raw}"` };
const fstype: Reader = (raw) =>
  ['ext2', 'ext3', 'ext4'].includes(raw) ? { ok: raw } : { error: `expected ext2, ext3 or ext4, got "${raw}"` };
const nfsExport: Reader = (raw) =>
  /^[^/:\s]+:\/\S*$/.test(raw) ? { ok: raw.replace(/\/+$/, '') || raw } : { error: `expected server:/path, got "${raw}"` };
const seconds: Reader = (raw) =>
  /^[0-9]+$/.test(raw) && Number(raw) > 0 && Number(raw) <= 600
    ? { ok: Number(raw) }
    : { error: `expected whole seconds between 1 and 600, got "${raw}"` };

const KEYS: Record<string, { field: keyof Settings; read: Reader }> = {
  READONLY: { field: 'readonly', read: yesNo },
  TEMPORARY_STATE: { field: 'temporaryState', read: yesNo },
  RW_MOUNT: { field: 'rwMount', read: path },
  RW_DEVICE: { field: 'rwDevice', read: device },
  RW_LABEL: { field: 'rwLabel', read: text },
  RW_FSTYPE: { field: 'rwFstype', read: fstype },
  RW_OPTIONS: { field: 'rwOptions', read: options },
  RW_MASTER: { field: 'rwMaster', read: path },
  VOLATILE: { field: 'volatile', read: paths },
  STATE_MOUNT: { field: 'stateMount', read: path },
  STATE_LABEL: { field: 'stateLabel', read: text },
  STATE_OPTIONS: { field: 'stateOptions', read: options },
  CLIENTSTATE: { field: 'clientState', read: nfsExport },
  REMOTE: { field: 'remote', read: nfsExport },
  REMOTE_MOUNT: { field: 'remoteMount', read: path },
  REMOTE_MASTER: { field: 'remoteMaster', read: path },
  REMOTE_OPTIONS: { field: 'remoteOptions', read: options },
  PERSISTENT: { field: 'persistent', read: paths },
  DEVTMPFS: { field: 'devtmpfs', read: yesNo },
  SLAVE_MOUNTS: { field: 'slaveMounts', read: yesNo },
  NFS_TIMEOUT: { field: 'nfsTimeoutSec', read: seconds },
};

// Keys whose empty value means "not set" rather than "empty": Fedora's stock
// file ships `CLIENTSTATE=` and `RW_OPTIONS=`.
const NULLABLE: ReadonlySet<keyof Settings> = new Set(['rwDevice', 'rwLabel', 'stateLabel', 'clientState', 'remote']);

// Fed files in increasing priority; later files override earlier ones.
export function mergeSettings(sources: { file: string; vars: ShellVars }[]): { settings: Settings; diagnostics: Diagnostic[] } {
  const settings: Settings = { ...DEFAULTS };
  const fields = settings as unknown as Record<string, unknown>;
  const diagnostics: Diagnostic[] = [];
  for (const { file, vars } of sources) {
    diagnostics.push(...vars.diagnostics);
    for (const [key, { value, line }] of vars.values) {
      const known = KEYS[key];
      if (!known) {
        diagnostics.push({ file, line, message: `unknown key ${key} (known: ${Object.keys(KEYS).join(', ')})` });
        continue;
      }
      if (value === '') {
        if (NULLABLE.has(known.field)) fields[known.field] = null;
        else if (known.read === options || known.read === paths) fields[known.field] = [];
        continue; // empty READONLY=, RW_MOUNT= ...: keep the default, as rc.sysinit does
      }
      const read = known.read(value);
      if ('error' in read) diagnostics.push({ file, line, message: `${key}: ${read.error}` });
      else fields[known.field] = read.ok;
    }
  }
  return { settings, diagnostics };
}
