import { hasControl, quoted, type Diagnostic } from './diagnostic';
import type { ShellVars } from './shell-vars';
import { checkSystemPath, isUnder, normalizeSystemPath } from './system-path';

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
  rwOptions: string[]; // RW_OPTIONS: for the scratch partition's mount only
  rwTmpfsSize: string; // RW_TMPFS_SIZE: the tmpfs scratch's cap (size=), kept well below the kernel's 50% of RAM
  rwTmpfsOptions: string[]; // RW_TMPFS_OPTIONS: for the tmpfs scratch only
  rwMaster: string; // RW_MASTER: the master copy the scratch is filled from
  volatile: string[]; // VOLATILE: root paths that are symlinks into RW_MOUNT
  overlay: string[]; // OVERLAY: root directories with an overlayfs whose upper layer is on the scratch
  stateMount: string; // STATE_MOUNT
  stateLabel: string | null; // STATE_LABEL
  stateOptions: string[]; // STATE_OPTIONS
  clientState: string | null; // CLIENTSTATE: server:/dir, state at dir/$HOSTNAME
  stateAllow: string[]; // STATE_ALLOW: what a store's files list may bind (empty: anything the deny-list leaves)
  stateShareSecrets: boolean; // STATE_SHARE_SECRETS: copy files only root can read onto an NFS state
  remote: string | null; // REMOTE: server:/export mounted at REMOTE_MOUNT
  remoteMount: string; // REMOTE_MOUNT
  remoteMaster: string; // REMOTE_MASTER: first content of PERSISTENT dirs, seeded into REMOTE
  remoteOptions: string[]; // REMOTE_OPTIONS
  persistent: string[]; // PERSISTENT: root paths that are symlinks into REMOTE_MOUNT
  devtmpfs: boolean; // DEVTMPFS: no for boards whose /dev is static nodes on the root
  slaveMounts: boolean; // SLAVE_MOUNTS: rwtab binds get slave propagation
  nfsTimeoutSec: number; // NFS_TIMEOUT: how long boot waits for one NFS mount
  bootDeadlineSec: number; // BOOT_DEADLINE: past it the trampoline kills the boot stage and starts init
  bootloader: 'auto' | 'flash'; // BOOTLOADER: flash: roroot flash writes fstab and extlinux.conf, install leaves them
  board: string | null; // BOARD: the board profile this image was built for (roroot upgrade takes only its updates)
  upgradeTries: number; // UPGRADE_TRIES: boots a new slot gets to prove itself
  upgradeHealth: string | null; // UPGRADE_HEALTH: a program that must exit 0 before a new slot is committed
  upgradeKey: string; // UPGRADE_KEY: the Ed25519 public key updates are signed with
}

export const DEFAULTS: Settings = {
  readonly: true,
  temporaryState: false,
  rwMount: '/var/lib/roroot/volatile',
  rwDevice: null,
  rwLabel: 'roroot-rw',
  rwFstype: 'ext4',
  rwOptions: [],
  rwTmpfsSize: '25%',
  rwTmpfsOptions: [],
  rwMaster: '/var/lib/roroot/volatile.ini',
  volatile: [],
  overlay: [],
  stateMount: '/var/lib/roroot/state',
  stateLabel: 'roroot-state',
  stateOptions: [],
  clientState: null,
  stateAllow: [],
  stateShareSecrets: false,
  remote: null,
  remoteMount: '/var/lib/roroot/remote',
  remoteMaster: '/var/lib/roroot/persistent.ini',
  remoteOptions: [],
  persistent: [],
  devtmpfs: true,
  slaveMounts: false,
  nfsTimeoutSec: 10,
  bootDeadlineSec: 120,
  bootloader: 'auto',
  board: null,
  upgradeTries: 3,
  upgradeHealth: null,
  upgradeKey: '/etc/roroot/update.pub',
};

type Reader = (raw: string) => { ok: unknown } | { error: string };

const yesNo: Reader = (raw) => {
  const v = raw.toLowerCase();
  if (['yes', 'true', '1', 'on'].includes(v)) return { ok: true };
  if (['no', 'false', '0', 'off'].includes(v)) return { ok: false };
  return { error: `expected yes or no, got ${quoted(raw)}` };
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
// A filesystem label: what mkfs -L takes (16 bytes for ext2/3/4), printable.
const label: Reader = (raw) =>
  Buffer.byteLength(raw) <= 16 && !hasControl(raw) ? { ok: raw } : { error: `expected a label of at most 16 printable bytes, got ${quoted(raw)}` };
// Mount options: name or name=value, no blanks, quotes or control bytes
// (they end up on mount's command line and in the log).
const options: Reader = (raw) => {
  const out = raw.split(',').map((o) => o.trim()).filter(Boolean);
  const bad = out.find((o) => !/^[A-Za-z0-9_.=%:@+/-]+$/.test(o));
  return bad === undefined ? { ok: out } : { error: `expected mount options (name or name=value), got ${quoted(bad)}` };
};
const device: Reader = (raw) =>
  raw.startsWith('/dev/') || /^(LABEL|UUID|PARTUUID|PARTLABEL)=./.test(raw)
    ? { ok: raw }
    : { error: `expected /dev/..., LABEL=, UUID=, PARTUUID= or PARTLABEL=, got ${quoted(raw)}` };
const fstype: Reader = (raw) =>
  ['ext2', 'ext3', 'ext4'].includes(raw) ? { ok: raw } : { error: `expected ext2, ext3 or ext4, got ${quoted(raw)}` };
const nfsExport: Reader = (raw) =>
  /^[^/:\s]+:\/\S*$/.test(raw) ? { ok: raw.replace(/\/+$/, '') || raw } : { error: `expected server:/path, got ${quoted(raw)}` };
const seconds =
  (min: number, max: number): Reader =>
  (raw) =>
    /^[0-9]+$/.test(raw) && Number(raw) >= min && Number(raw) <= max
      ? { ok: Number(raw) }
      : { error: `expected whole seconds between ${min} and ${max}, got ${quoted(raw)}` };
// tmpfs(5) size=: bytes with an optional k, m or g, or a percentage of RAM.
const tmpfsSize: Reader = (raw) =>
  /^[1-9][0-9]*[kmg]?$/i.test(raw) || (/^[1-9][0-9]?%$/.test(raw))
    ? { ok: raw }
    : { error: `expected a tmpfs size (64m, 25%), got ${quoted(raw)}` };
const boardName: Reader = (raw) => (/^[a-z0-9][a-z0-9_-]{0,63}$/.test(raw) ? { ok: raw } : { error: `expected a board name, got ${quoted(raw)}` });
// One digit: GRUB's script counts the tries down by a table.
const tries: Reader = (raw) => (/^[1-9]$/.test(raw) ? { ok: Number(raw) } : { error: `expected 1 to 9 tries, got ${quoted(raw)}` });
const bootloader: Reader = (raw) => (raw === 'auto' || raw === 'flash' ? { ok: raw } : { error: `expected auto or flash, got ${quoted(raw)}` });

const KEYS = {
  READONLY: { field: 'readonly', read: yesNo },
  TEMPORARY_STATE: { field: 'temporaryState', read: yesNo },
  RW_MOUNT: { field: 'rwMount', read: path },
  RW_DEVICE: { field: 'rwDevice', read: device },
  RW_LABEL: { field: 'rwLabel', read: label },
  RW_FSTYPE: { field: 'rwFstype', read: fstype },
  RW_OPTIONS: { field: 'rwOptions', read: options },
  RW_TMPFS_SIZE: { field: 'rwTmpfsSize', read: tmpfsSize },
  RW_TMPFS_OPTIONS: { field: 'rwTmpfsOptions', read: options },
  RW_MASTER: { field: 'rwMaster', read: path },
  VOLATILE: { field: 'volatile', read: paths },
  OVERLAY: { field: 'overlay', read: paths },
  STATE_MOUNT: { field: 'stateMount', read: path },
  STATE_LABEL: { field: 'stateLabel', read: label },
  STATE_OPTIONS: { field: 'stateOptions', read: options },
  CLIENTSTATE: { field: 'clientState', read: nfsExport },
  STATE_ALLOW: { field: 'stateAllow', read: paths },
  STATE_SHARE_SECRETS: { field: 'stateShareSecrets', read: yesNo },
  REMOTE: { field: 'remote', read: nfsExport },
  REMOTE_MOUNT: { field: 'remoteMount', read: path },
  REMOTE_MASTER: { field: 'remoteMaster', read: path },
  REMOTE_OPTIONS: { field: 'remoteOptions', read: options },
  PERSISTENT: { field: 'persistent', read: paths },
  DEVTMPFS: { field: 'devtmpfs', read: yesNo },
  SLAVE_MOUNTS: { field: 'slaveMounts', read: yesNo },
  NFS_TIMEOUT: { field: 'nfsTimeoutSec', read: seconds(1, 600) },
  BOOT_DEADLINE: { field: 'bootDeadlineSec', read: seconds(10, 3600) },
  BOOTLOADER: { field: 'bootloader', read: bootloader },
  BOARD: { field: 'board', read: boardName },
  UPGRADE_TRIES: { field: 'upgradeTries', read: tries },
  UPGRADE_HEALTH: { field: 'upgradeHealth', read: path },
  UPGRADE_KEY: { field: 'upgradeKey', read: path },
} satisfies Record<string, { field: keyof Settings; read: Reader }>;
const KEY_TABLE: Record<string, { field: keyof Settings; read: Reader } | undefined> = KEYS;

export type Key = keyof typeof KEYS;

// Keys whose empty value means "not set" rather than "empty": Fedora's stock
// file ships `CLIENTSTATE=` and `RW_OPTIONS=`.
const NULLABLE: ReadonlySet<keyof Settings> = new Set(['rwDevice', 'rwLabel', 'stateLabel', 'clientState', 'remote', 'board', 'upgradeHealth']);

// Fed files in increasing priority; later files override earlier ones.
export function mergeSettings(sources: { file: string; vars: ShellVars }[]): { settings: Settings; diagnostics: Diagnostic[] } {
  const settings: Settings = { ...DEFAULTS };
  const fields = settings as unknown as Record<string, unknown>;
  const diagnostics: Diagnostic[] = [];
  const origin: Origins = new Map();
  let order = 0;
  for (const { file, vars } of sources) {
    diagnostics.push(...vars.diagnostics);
    for (const [key, { value, line }] of vars.values) {
      const known = KEY_TABLE[key];
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
      else {
        fields[known.field] = read.ok;
        origin.set(known.field, { key, file, line, order: order++ });
      }
    }
  }
  diagnostics.push(...checkPlaces(settings, origin));
  return { settings, diagnostics };
}

// Where boot mounts a store, and what it fills one from. Mounting a store
// over / hides the whole root; over a directory that holds another store
// (STATE_MOUNT=/var/lib/roroot with the scratch at /var/lib/roroot/volatile)
// hides that store; a master copy inside the store it fills is wiped with
// it. Such a value is a config error, and the default stands.
const STORES: (keyof Settings)[] = ['rwMount', 'stateMount', 'remoteMount'];
const MASTERS: [keyof Settings, keyof Settings][] = [
  ['rwMaster', 'rwMount'],
  ['remoteMaster', 'remoteMount'],
];

type Origins = Map<keyof Settings, { key: string; file: string; line: number; order: number }>;

function checkPlaces(settings: Settings, origin: Origins): Diagnostic[] {
  const fields = settings as unknown as Record<string, string>;
  const out: Diagnostic[] = [];
  const refuse = (field: keyof Settings, message: string) => {
    const at = origin.get(field);
    if (!at) return; // two defaults never collide
    out.push({ file: at.file, line: at.line, message: `${at.key}: ${message}` });
    fields[field] = DEFAULTS[field] as string;
    origin.delete(field);
  };
  for (const f of [...STORES, 'rwMaster', 'remoteMaster'] as (keyof Settings)[]) if (fields[f] === '/') refuse(f, 'must not be / (it would hide the whole root)');
  for (const a of STORES) {
    for (const b of STORES) {
      if (a === b || !isUnder(fields[b], fields[a])) continue;
      // The one the config set is wrong; of two, the one set last.
      const late = (origin.get(a)?.order ?? -1) > (origin.get(b)?.order ?? -1) ? a : b;
      const other = late === a ? b : a;
      refuse(late, `${fields[late]} and ${fields[other]} (${keyOf(other)}) would be mounted one over the other`);
    }
  }
  for (const [master, store] of MASTERS) {
    if (isUnder(fields[master], fields[store])) refuse(master, `${fields[master]} lies inside ${keyOf(store)}=${fields[store]}, which is mounted over it`);
  }
  return out;
}

function keyOf(field: keyof Settings): string {
  return Object.entries(KEYS).find(([, v]) => v.field === field)?.[0] ?? field;
}

// The one writer of roroot.conf (the image builder, roroot flash, roroot
// install): each KEY=value checked by the reader boot uses, so that what is
// written is what boot will read. An existing assignment is replaced where
// it stands (later ones removed: the last one would win); a new one is
// appended. Throws on a value boot would refuse: a bug in the caller.
export function setSettings(text: string | null, values: Partial<Record<Key, string>>, header = '# roroot: see roroot boot --help.'): string {
  const lines = text === null ? [header] : text.replace(/\n$/, '').split('\n');
  for (const [key, value] of Object.entries(values) as [Key, string][]) {
    const entry: { read: Reader } = KEYS[key];
    if (value !== '') {
      const read = entry.read(value);
      if ('error' in read) throw new Error(`${key}: ${read.error}`);
    }
    const line = `${key}=${shellQuote(value)}`;
    const assigns = (l: string) => new RegExp(`^\\s*(export\\s+)?${key}=`).test(l);
    const at = lines.findIndex(assigns);
    if (at < 0) lines.push(line);
    else {
      lines[at] = line;
      for (let i = lines.length - 1; i > at; i--) if (assigns(lines[i])) lines.splice(i, 1);
    }
  }
  return lines.join('\n') + '\n';
}

// Bare when the shell-vars reader takes it as it is, double-quoted otherwise.
function shellQuote(value: string): string {
  return /^[A-Za-z0-9_.,:\/%=@+-]*$/.test(value) ? value : `"${value.replace(/["\\$`]/g, (c) => `\\${c}`)}"`;
}
