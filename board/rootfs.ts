import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Board } from '../init/config/board';

// The Debian root filesystem every board image starts from, built by
// mmdebstrap and cached outside the repository under a key made of its
// inputs (suite, packages, hook, mmdebstrap's version): a change to any of
// them builds a new one, nothing else does.

const SUITE = 'bookworm';
const PACKAGES = ['linux-image-amd64', 'initramfs-tools', 'klibc-utils', 'systemd-sysv', 'udev', 'nodejs', 'util-linux', 'login', 'iproute2', 'nfs-common', 'e2fsprogs', 'kmod'];
// A board with INIT=sysvinit gets sysvinit-core in systemd-sysv's place.
// udev stays: initramfs-tools-core depends on it, and the initramfs needs
// it to load the disk's driver.
function packagesFor(init: Board['init']): string[] {
  return init === 'systemd' ? PACKAGES : PACKAGES.map((p) => (p === 'systemd-sysv' ? 'sysvinit-core' : p));
}
// Small initramfs: only the modules the board lists (Debian's MODULES=most
// initrd is 36 MB and panics in 128 MiB of RAM).
const SETUP_HOOK = 'mkdir -p "$1/etc/initramfs-tools/conf.d" && echo MODULES=list > "$1/etc/initramfs-tools/conf.d/roroot"';

export function rootfsTarball(cacheDir: string, say: (line: string) => void, init: Board['init'] = 'systemd'): string {
  const mmdebstrap = execFileSync('mmdebstrap', ['--version'], { encoding: 'utf8' }).trim();
  const packages = packagesFor(init);
  const key = createHash('sha256').update(JSON.stringify({ SUITE, PACKAGES: packages, SETUP_HOOK, mmdebstrap })).digest('hex').slice(0, 16);
  const tar = join(cacheDir, `rootfs-${SUITE}-${key}.tar`);
  if (existsSync(tar) && statSync(tar).isFile()) {
    say(`root filesystem from the cache: ${tar}`);
    return tar;
  }
  mkdirSync(cacheDir, { recursive: true });
  say(`building the root filesystem (mmdebstrap, about a minute): ${tar}`);
  const t0 = Date.now();
  // --format=tar: mmdebstrap picks the format from the extension otherwise.
  const r = spawnSync('mmdebstrap', ['--variant=minbase', '--format=tar', `--include=${packages.join(',')}`, `--setup-hook=${SETUP_HOOK}`, SUITE, `${tar}.tmp`], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`mmdebstrap failed (exit ${r.status})`);
  renameSync(`${tar}.tmp`, tar);
  say(`root filesystem built in ${Math.round((Date.now() - t0) / 1000)} s`);
  return tar;
}

export const DEFAULT_CACHE = process.env.RORORT_CACHE ?? '/var/cache/roroot';
