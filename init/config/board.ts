import type { Diagnostic } from './diagnostic';
import { parseShellVars } from './shell-vars';
import { checkSystemPath } from './system-path';

// A board profile (board/*.conf): the disk layout, the drivers the initramfs
// needs, the console, and which directories are volatile or persistent.
// Same KEY=value format as roroot.conf; every key is required, so that a
// profile says everything about its board in one place.

export interface Board {
  name: string;
  disk: string;
  diskModules: string[];
  netModules: string[];
  eraseBlockMiB: number;
  rootSizeMiB: number;
  rootFs: 'ext4';
  rwSizeMiB: number;
  rwFs: 'ext2' | 'ext3' | 'ext4';
  scratch: Scratch;
  rootShared: boolean;
  swapSizeMiB: number;
  stateSizeMiB: number;
  stateLabel: string;
  console: string;
  consoleSpeed: number;
  init: 'systemd' | 'sysvinit';
  dev: 'devtmpfs' | 'static';
  volatile: string[];
  remote: string | null;
  persistent: string[];
  clientState: string | null;
  extraModuleDirs: string[]; // kernel module directories kept beyond a router's own (board/kernel-modules.ts)
  slots: 1 | 2; // SLOTS=2: two root slots booted by GRUB, roroot upgrade (init/upgrade/)
  upgradeTries: number; // UPGRADE_TRIES (SLOTS=2 only, default 3): boots a new slot gets to prove itself
  upgradeHealth: string | null; // UPGRADE_HEALTH (SLOTS=2 only): the board's health command
}

// SCRATCH: where the scratch space lives. A partition of DISK (RW_SIZE_MIB);
// a whole disk of its own (RW_SIZE_MIB is what the machine gives it), as
// each router of a fleet sharing one image has; or tmpfs, no disk at all.
export type Scratch = { kind: 'partition' } | { kind: 'disk'; device: string } | { kind: 'tmpfs' };

const words = (v: string) => v.split(/\s+/).filter(Boolean);
const mib = (v: string) => (/^[0-9]+$/.test(v) ? Number(v) : NaN);
const oneOf = <T extends string>(v: string, allowed: readonly T[]): T | undefined => allowed.find((a) => a === v);

export function parseBoard(name: string, file: string, text: string): { board: Board | null; diagnostics: Diagnostic[] } {
  const vars = parseShellVars(file, text);
  const diagnostics = [...vars.diagnostics];
  const line = (key: string) => vars.values.get(key)?.line ?? 0;
  const get = (key: string): string => {
    const v = vars.values.get(key);
    if (!v) diagnostics.push({ file, line: 0, message: `${key} is missing` });
    return v?.value ?? '';
  };
  const bad = (key: string, expected: string) => diagnostics.push({ file, line: line(key), message: `${key}: expected ${expected}, got "${get(key)}"` });
  const size = (key: string, min: number) => {
    const n = mib(get(key));
    if (!(n >= min)) bad(key, `a size in MiB of at least ${min}`);
    return n;
  };
  // Flash storage erases and rewrites whole blocks (SD/CF allocation units,
  // typically 4 MiB): a cut while one is rewritten can damage any sector in
  // it, so no partition may share one with the root.
  const eraseBlock = (): number => {
    const m = /^([0-9]+)MiB$/.exec(get('ERASE_BLOCK'));
    const n = m ? Number(m[1]) : NaN;
    if (!(n >= 1 && n <= 256 && (n & (n - 1)) === 0)) bad('ERASE_BLOCK', 'a power of two from 1MiB to 256MiB');
    return n;
  };
  const paths = (key: string) => {
    const list = words(get(key));
    for (const p of list) {
      const problem = checkSystemPath(p.replace(/\/\*$/, ''));
      if (problem) diagnostics.push({ file, line: line(key), message: `${key}: ${problem}` });
    }
    return list;
  };
  // Relative to the kernel's module tree (/lib/modules/RELEASE/kernel).
  const moduleDirs = () => {
    const list = words(get('EXTRA_MODULE_DIRS'));
    for (const d of list) {
      if (!/^[A-Za-z0-9_-]+(\/[A-Za-z0-9_.-]+)*$/.test(d) || d.split('/').includes('..')) {
        diagnostics.push({ file, line: line('EXTRA_MODULE_DIRS'), message: `EXTRA_MODULE_DIRS: "${d}" is not a directory under /lib/modules/RELEASE/kernel (such as drivers/watchdog)` });
      }
    }
    return list;
  };
  const rwFs = oneOf(get('RW_FS'), ['ext2', 'ext3', 'ext4'] as const);
  const init = oneOf(get('INIT'), ['systemd', 'sysvinit'] as const);
  const dev = oneOf(get('DEV'), ['devtmpfs', 'static'] as const);
  if (get('ROOT_FS') !== 'ext4') bad('ROOT_FS', 'ext4 (extlinux boots it)');
  if (!rwFs) bad('RW_FS', 'ext2, ext3 or ext4');
  if (!init) bad('INIT', 'systemd or sysvinit');
  if (!dev) bad('DEV', 'devtmpfs or static');
  // systemd mounts a devtmpfs on /dev itself, whatever is on the root.
  if (dev === 'static' && init === 'systemd') diagnostics.push({ file, line: line('DEV'), message: 'DEV=static: needs INIT=sysvinit (systemd mounts devtmpfs on /dev itself)' });
  if (!get('DISK').startsWith('/dev/')) bad('DISK', 'a /dev path');
  const scratch = parseScratch(get('SCRATCH'));
  if (!scratch) bad('SCRATCH', 'partition, tmpfs or a /dev path (a disk of its own)');
  const shared = oneOf(get('ROOT_SHARED'), ['yes', 'no'] as const);
  if (!shared) bad('ROOT_SHARED', 'yes or no');
  // One image opened read-only by many machines: nothing on its disk can be
  // written, so nothing of a machine's own may live there.
  if (shared === 'yes') {
    if (scratch?.kind === 'partition') diagnostics.push({ file, line: line('SCRATCH'), message: 'SCRATCH=partition: a shared root disk is read-only, the scratch must be a disk of its own or tmpfs' });
    for (const key of ['SWAP_SIZE_MIB', 'STATE_SIZE_MIB']) {
      if (get(key) !== '0') diagnostics.push({ file, line: line(key), message: `${key}: must be 0 with ROOT_SHARED=yes (no partition of one machine on a shared disk)` });
    }
  }
  // Two slots: GRUB on a boot partition of its own picks one (layout.ts,
  // init/flash/grub.ts). Each slot's image comes from an update built
  // without knowing the disk, so nothing of one machine may be on it.
  const slotsText = get('SLOTS');
  const slots = slotsText === '2' ? 2 : 1;
  if (slotsText && slotsText !== '1' && slotsText !== '2') bad('SLOTS', '1 or 2');
  if (slots === 2 && shared === 'yes') diagnostics.push({ file, line: line('SLOTS'), message: 'SLOTS=2: a shared root is upgraded by replacing its image on the server, not in slots (ROOT_SHARED=no)' });
  if (slots === 2 && get('SWAP_SIZE_MIB') !== '0') diagnostics.push({ file, line: line('SWAP_SIZE_MIB'), message: 'SWAP_SIZE_MIB: must be 0 with SLOTS=2 (a slot\'s fstab cannot name this disk\'s swap partition)' });
  const optional = (key: string) => vars.values.get(key);
  for (const key of ['UPGRADE_TRIES', 'UPGRADE_HEALTH']) if (optional(key) && slots !== 2) diagnostics.push({ file, line: line(key), message: `${key}: only with SLOTS=2` });
  const tries = optional('UPGRADE_TRIES') ? Number(optional('UPGRADE_TRIES')?.value) : 3;
  if (!(Number.isInteger(tries) && tries >= 1 && tries <= 9)) bad('UPGRADE_TRIES', 'a number of boots from 1 to 9 (GRUB counts one digit)');
  const health = optional('UPGRADE_HEALTH')?.value || null;
  if (health && !health.startsWith('/')) bad('UPGRADE_HEALTH', 'an absolute path');
  const speed = Number(get('CONSOLE_SPEED'));
  if (![9600, 19200, 38400, 57600, 115200].includes(speed)) bad('CONSOLE_SPEED', 'a serial speed (9600 ... 115200)');
  const board: Board = {
    name,
    disk: get('DISK'),
    diskModules: words(get('DISK_MODULES')),
    netModules: words(get('NET_MODULES')),
    eraseBlockMiB: eraseBlock(),
    rootSizeMiB: size('ROOT_SIZE_MIB', 256),
    rootFs: 'ext4',
    rwSizeMiB: size('RW_SIZE_MIB', 8),
    rwFs: rwFs ?? 'ext4',
    scratch: scratch ?? { kind: 'partition' },
    rootShared: shared === 'yes',
    swapSizeMiB: size('SWAP_SIZE_MIB', 0),
    stateSizeMiB: size('STATE_SIZE_MIB', 0),
    stateLabel: get('STATE_LABEL'),
    console: get('CONSOLE'),
    consoleSpeed: speed,
    init: init ?? 'systemd',
    dev: dev ?? 'devtmpfs',
    volatile: paths('VOLATILE'),
    remote: get('REMOTE') || null,
    persistent: paths('PERSISTENT'),
    clientState: get('CLIENTSTATE') || null,
    extraModuleDirs: moduleDirs(),
    slots,
    upgradeTries: tries,
    upgradeHealth: health,
  };
  const known = new Set(['DISK', 'DISK_MODULES', 'NET_MODULES', 'ERASE_BLOCK', 'ROOT_SIZE_MIB', 'ROOT_FS', 'RW_SIZE_MIB', 'RW_FS', 'SCRATCH', 'ROOT_SHARED', 'SWAP_SIZE_MIB', 'STATE_SIZE_MIB', 'STATE_LABEL', 'CONSOLE', 'CONSOLE_SPEED', 'INIT', 'DEV', 'VOLATILE', 'REMOTE', 'PERSISTENT', 'CLIENTSTATE', 'EXTRA_MODULE_DIRS', 'SLOTS', 'UPGRADE_TRIES', 'UPGRADE_HEALTH']);
  for (const [key, v] of vars.values) if (!known.has(key)) diagnostics.push({ file, line: v.line, message: `unknown key ${key}` });
  return { board: diagnostics.length === 0 ? board : null, diagnostics };
}

function parseScratch(v: string): Scratch | null {
  if (v === 'partition' || v === 'tmpfs') return { kind: v };
  return /^\/dev\/[a-z0-9]+$/.test(v) ? { kind: 'disk', device: v } : null;
}
