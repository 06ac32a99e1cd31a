import { closeSync, constants, openSync, readdirSync, readFileSync, readlinkSync, statSync, type Stats } from 'node:fs';
import { hostname, networkInterfaces } from 'node:os';
import type { Config } from '../config/config';
import { CONFIG_FILES } from '../config/config';
import { matchSpec } from '../plan/devices';
import { mountAt, type BlockDevice, type Facts, type PathFact, type PathKind } from '../plan/facts';
import { nameInHosts, wantsNameFromAddress } from '../plan/hostname';
import { wantedDevices, wantedPaths } from '../plan/wanted';
import { probeBlockDevices } from './block-devices';
import { parseMountinfo } from './mountinfo';
import { probeRootErrors } from './root-errors';
import { hostPath, lstatPathInRoot, resolveInRoot, resolveLenient, StatCache } from './root-path';

// Asks the machine what the planner needs for this config: mounts, the
// block devices and what holds them, the paths it names, the hostname and
// addresses.

export function readMounts(root: string) {
  try {
    return parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'), root);
  } catch {
    return []; // /proc not mounted yet: nothing is
  }
}

export async function probe(root: string, config: Config, extraPaths: string[] = []): Promise<Facts> {
  const paths: Record<string, PathFact> = {};
  const cache = new StatCache();
  for (const p of [...wantedPaths(config), ...extraPaths]) paths[p] = pathFact(root, p, cache);
  const kernelHostname = hostname();
  const etcHostname = readOptional(hostPath(root, CONFIG_FILES.hostname))?.trim().split(/\s+/)[0] || null;
  const addresses = globalIPv4();
  const reverseName =
    wantsNameFromAddress(kernelHostname, etcHostname) && addresses[0] && !nameInHosts(config.etcHosts, addresses[0])
      ? await reverseLookup(root, addresses[0])
      : null;
  const facts: Facts = { root, mounts: readMounts(root), blockDevices: [], paths, kernelHostname, etcHostname, addresses, reverseName, modules: null, overlay: null, rootErrors: null, problems: [] };
  facts.rootErrors = probeRootErrors(root, mountAt(facts, '/'));
  facts.blockDevices = await blockDevices(root, wantedDevices(config), facts.problems);
  // Only the devices the config names are opened: an O_EXCL open of every
  // disk would spin up an idle CD drive for nothing.
  const named = new Set(wantedDevices(config).flatMap((spec) => matchSpec(facts, spec)));
  for (const d of named) d.claimed = claimed(hostPath(root, d.path));
  return facts;
}

// Only the mounts and these paths: what install, uninstall and status ask
// of the places (no device, no network).
export function localFacts(root: string, paths: string[]): Facts {
  const cache = new StatCache();
  return { root, mounts: readMounts(root), blockDevices: [], paths: Object.fromEntries(paths.map((p) => [p, pathFact(root, p, cache)])), kernelHostname: '', etcHostname: null, addresses: [], reverseName: null, modules: null, overlay: null, rootErrors: null, problems: [] };
}

// Every block device, and the names the config gives some of them by path
// (/dev/disk/by-...) as their aliases.
async function blockDevices(root: string, specs: string[], problems: string[]): Promise<BlockDevice[]> {
  const out = await probeBlockDevices(root, specs.some((s) => !s.startsWith('/')), problems);
  for (const spec of specs.filter((s) => s.startsWith('/'))) {
    let st: Stats;
    try {
      st = statSync(hostPath(root, spec));
    } catch {
      continue;
    }
    const d = st.isBlockDevice() ? out.find((o) => o.number === majorMinor(st.rdev)) : undefined;
    if (d && d.path !== spec) d.aliases.push(spec);
  }
  return out;
}

// Linux refuses an O_EXCL open of a block device that is mounted, active
// swap, or held by a loop, dm, md or LUKS device (EBUSY); mke2fs opens it
// the same way. Null: nothing holds it.
function claimed(path: string): string | null {
  try {
    closeSync(openSync(path, constants.O_RDONLY | constants.O_EXCL | constants.O_NONBLOCK));
    return null;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? 'unknown error';
  }
}

// Linux's new_encode_dev: minor's low 8 bits, then 12 bits of major, then the rest of minor.
export function majorMinor(rdev: number): string {
  const major = Math.floor(rdev / 256) & 0xfff;
  const minor = (rdev & 0xff) | (Math.floor(rdev / 4096) & ~0xff);
  return `${major}:${minor}`;
}

function kindOf(st: Stats): PathKind {
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isDirectory()) return 'dir';
  if (st.isFile()) return 'file';
  if (st.isCharacterDevice()) return 'chardev';
  if (st.isBlockDevice()) return 'blockdev';
  return 'other';
}

// `cache`: shared by the paths of one probe.
export function pathFact(root: string, path: string, cache = new StatCache()): PathFact {
  const host = lstatPathInRoot(root, path, cache);
  let kind: PathKind = 'missing';
  let link: string | null = null;
  const st = host ? cache.lstat(host) : null;
  if (host && st) {
    try {
      if (st.isSymbolicLink()) link = readlinkSync(host);
      kind = kindOf(st);
    } catch {
      kind = 'missing'; // gone between the lstat and the readlink
    }
  }
  const resolved = kind === 'missing' ? null : resolveInRoot(root, path, cache);
  const target = resolved ? cache.lstat(hostPath(root, resolved)) : null;
  const follows: PathKind = target ? kindOf(target) : 'missing';
  return { kind, follows, link, resolved, where: resolved ?? resolveLenient(root, path, cache) ?? path };
}

// Whether mount -t overlay can work: the filesystem registered, or a module
// for it in the running kernel's module directory (mount loads it).
export function probeOverlay(root: string, moduleDir: string | null): boolean {
  if (/\toverlay$/m.test(readOptional('/proc/filesystems') ?? '')) return true;
  if (!moduleDir) return false;
  const dir = hostPath(root, `${moduleDir}/kernel/fs/overlayfs`);
  try {
    return readdirSync(dir).some((n) => /^overlay\.ko/.test(n));
  } catch {
    return false;
  }
}

function globalIPv4(): string[] {
  const out: string[] = [];
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.family === 'IPv4' && !a.internal && !a.address.startsWith('127.') && !a.address.startsWith('169.254.')) out.push(a.address);
    }
  }
  return out;
}

// Reverse DNS through the system's own resolv.conf servers, bounded to a
// second: boot must not hang on a resolver that is not there yet.
async function reverseLookup(root: string, address: string): Promise<string | null> {
  const servers = (readOptional(hostPath(root, '/etc/resolv.conf')) ?? '')
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[0] === 'nameserver' && f[1])
    .map((f) => f[1]);
  if (servers.length === 0) return null;
  // Loaded only here: node:dns (c-ares) costs ~10 ms to load at every boot,
  // and most boots have a name already or no resolver to ask.
  const dns = (require('node:dns') as typeof import('node:dns')).promises;
  const resolver = new dns.Resolver({ timeout: 1000, tries: 1 });
  resolver.setServers(servers);
  try {
    const names = await resolver.reverse(address);
    return names[0] ?? null;
  } catch {
    return null;
  }
}

function readOptional(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}
