import { existsSync, lstatSync, readFileSync, readlinkSync, statSync, type Stats } from 'node:fs';
import { hostname, networkInterfaces } from 'node:os';
import type { Config } from '../config/config';
import { CONFIG_FILES } from '../config/config';
import type { Facts, PathFact, PathKind } from '../plan/facts';
import { nameInHosts, wantsNameFromAddress } from '../plan/hostname';
import { wantedDevices, wantedPaths } from '../plan/wanted';
import { findDevice, parseBlkidExport, type BlkidDevice } from './blkid';
import { parseMountinfo } from './mountinfo';
import { hostPath, lstatPathInRoot, resolveInRoot } from './root-path';
import { run } from './spawn';

// Asks the machine exactly what the planner needs for this config, and
// nothing else: mounts, the devices the config names, the paths it names,
// the hostname and addresses.

export function readMounts(root: string) {
  try {
    return parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'), root);
  } catch {
    return []; // /proc not mounted yet: nothing is
  }
}

export async function probe(root: string, config: Config, extraPaths: string[] = []): Promise<Facts> {
  const devices = await probeDevices(root, wantedDevices(config));
  const deviceNumbers: Record<string, string> = {};
  for (const device of Object.values(devices)) {
    if (device) {
      try {
        deviceNumbers[device] = majorMinor(statSync(hostPath(root, device)).rdev);
      } catch {
        // vanished between blkid and stat: the planner treats it as not in use
      }
    }
  }
  const paths: Record<string, PathFact> = {};
  for (const p of [...wantedPaths(config), ...extraPaths]) paths[p] = pathFact(root, p);

  const kernelHostname = hostname();
  const etcHostname = readOptional(hostPath(root, CONFIG_FILES.hostname))?.trim().split(/\s+/)[0] || null;
  const addresses = globalIPv4();
  const reverseName =
    wantsNameFromAddress(kernelHostname, etcHostname) && addresses[0] && !nameInHosts(config.etcHosts, addresses[0])
      ? await reverseLookup(root, addresses[0])
      : null;
  return { mounts: readMounts(root), devices, deviceNumbers, paths, kernelHostname, etcHostname, addresses, reverseName, modules: null };
}

async function probeDevices(root: string, specs: string[]): Promise<Record<string, string | null>> {
  const out: Record<string, string | null> = {};
  let blkid: BlkidDevice[] | null = null;
  for (const spec of specs) {
    if (spec.startsWith('/')) {
      out[spec] = existsSync(hostPath(root, spec)) ? spec : null;
      continue;
    }
    if (blkid === null) {
      // blkid exits 2 when it finds nothing at all: that is an empty answer.
      const result = await run('blkid', ['-c', '/dev/null', '-o', 'export']).catch(() => ({ stdout: '' }));
      blkid = parseBlkidExport(result.stdout);
    }
    out[spec] = findDevice(blkid, spec);
  }
  return out;
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

export function pathFact(root: string, path: string): PathFact {
  const host = lstatPathInRoot(root, path);
  let kind: PathKind = 'missing';
  let link: string | null = null;
  if (host) {
    try {
      const st = lstatSync(host);
      kind = kindOf(st);
      if (st.isSymbolicLink()) link = readlinkSync(host);
    } catch {
      kind = 'missing';
    }
  }
  const resolved = kind === 'missing' ? null : resolveInRoot(root, path);
  let follows: PathKind = 'missing';
  if (resolved) follows = kindOf(lstatSync(hostPath(root, resolved)));
  return { kind, follows, link, resolved };
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
