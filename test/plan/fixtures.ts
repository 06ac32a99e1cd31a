import { assembleConfig, CONFIG_FILES, type Config } from '../../init/config/config';
import type { BlockDevice, Facts, Mount, PathFact } from '../../init/plan/facts';
import type { Step } from '../../init/plan/steps';

// Configs are built by the real parsers from file texts; facts are written
// out as the probe would report them for a booted-from-initramfs router.

const CONFIG_PATHS: string[] = Object.values(CONFIG_FILES);

// Only the files boot reads: a fixture naming another path (a typo such
// as 'roroot.conf') would be read as absent, and its test could not fail.
export function config(files: Record<string, string>, cmdline = 'ro root=/dev/vda1', rwtabDir: string[] = []): Config {
  for (const path of Object.keys(files)) {
    if (!CONFIG_PATHS.includes(path) && !path.startsWith(`${CONFIG_FILES.rwtabDir}/`)) throw new Error(`fixture: ${path} is not a config file boot reads (${CONFIG_PATHS.join(', ')})`);
  }
  for (const name of rwtabDir) if (!(`${CONFIG_FILES.rwtabDir}/${name}` in files) && !name.endsWith('.rpmsave')) throw new Error(`fixture: ${name} listed in ${CONFIG_FILES.rwtabDir} without its text`);
  return assembleConfig((p) => files[p] ?? null, rwtabDir, cmdline);
}

export const dir = (resolved: string): PathFact => ({ kind: 'dir', follows: 'dir', link: null, resolved, where: resolved });
export const file = (resolved: string): PathFact => ({ kind: 'file', follows: 'file', link: null, resolved, where: resolved });
export const link = (target: string, resolved: string | null, follows: PathFact['follows'] = 'dir'): PathFact => ({
  kind: 'symlink',
  follows: resolved ? follows : 'missing',
  link: target,
  resolved,
  where: resolved ?? target,
});
export const missing: PathFact = { kind: 'missing', follows: 'missing', link: null, resolved: null, where: '' };

export const mount = (target: string, device = '0:1', fstype = 'tmpfs', options = ['rw']): Mount => ({ target, device, fstype, options, source: fstype });

// A block device as blkid and /sys show it: a partition of 64 MiB unless said.
export function disk(path: string, number: string, over: Partial<BlockDevice> = {}): BlockDevice {
  return { path, aliases: [], number, sizeBytes: 64 << 20, partition: true, partitions: 0, label: null, uuid: null, partuuid: null, partlabel: null, fstype: null, claimed: null, ...over };
}

export function facts(over: Partial<Facts> = {}): Facts {
  return {
    root: '/',
    mounts: [mount('/', '254:1', 'ext4', ['ro']), mount('/proc', '0:20', 'proc'), mount('/sys', '0:21', 'sysfs'), mount('/dev', '0:5', 'devtmpfs'), mount('/dev/pts', '0:22', 'devpts')],
    blockDevices: [],
    paths: {
      '/etc/mtab': link('/proc/mounts', '/proc/mounts', 'file'),
      '/var/lib/roroot/volatile': dir('/var/lib/roroot/volatile'),
      '/var/lib/roroot/volatile.ini': dir('/var/lib/roroot/volatile.ini'),
    },
    kernelHostname: 'router1',
    etcHostname: 'router1',
    addresses: [],
    reverseName: null,
    modules: null,
    overlay: null,
    rootErrors: null,
    problems: [],
    ...over,
  };
}

// A bind batch stands for its members: tests look at each bind.
export const flat = (steps: Step[]): Step[] => steps.flatMap((s) => (s.kind === 'bind-batch' ? s.members : [s]));
