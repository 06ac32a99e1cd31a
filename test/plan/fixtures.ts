import { assembleConfig, type Config } from '../../init/config/config';
import type { Facts, Mount, PathFact } from '../../init/plan/facts';

// Configs are built by the real parsers from file texts; facts are written
// out as the probe would report them for a booted-from-initramfs router.

export function config(files: Record<string, string>, cmdline = 'ro root=/dev/vda1', rwtabDir: string[] = []): Config {
  return assembleConfig((p) => files[p] ?? null, rwtabDir, cmdline);
}

export const dir = (resolved: string): PathFact => ({ kind: 'dir', follows: 'dir', link: null, resolved });
export const file = (resolved: string): PathFact => ({ kind: 'file', follows: 'file', link: null, resolved });
export const link = (target: string, resolved: string | null, follows: PathFact['follows'] = 'dir'): PathFact => ({
  kind: 'symlink',
  follows: resolved ? follows : 'missing',
  link: target,
  resolved,
});
export const missing: PathFact = { kind: 'missing', follows: 'missing', link: null, resolved: null };

export const mount = (target: string, device = '0:1', fstype = 'tmpfs', options = ['rw']): Mount => ({ target, device, fstype, options, source: fstype });

export function facts(over: Partial<Facts> = {}): Facts {
  return {
    mounts: [mount('/', '254:1', 'ext4', ['ro']), mount('/proc', '0:20', 'proc'), mount('/sys', '0:21', 'sysfs'), mount('/dev', '0:5', 'devtmpfs'), mount('/dev/pts', '0:22', 'devpts')],
    devices: {},
    deviceNumbers: {},
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
    ...over,
  };
}
