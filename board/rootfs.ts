import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Board } from '../init/config/board';

// The Debian root filesystem every board image starts from, built by
// mmdebstrap and cached outside the repository under a key made of its
// inputs (suite, packages, hook, dpkg options, mmdebstrap's version): a
// change to any of them builds a new one, nothing else does.

const SUITE = 'bookworm';
const PACKAGES = ['linux-image-amd64', 'initramfs-tools', 'klibc-utils', 'systemd-sysv', 'udev', 'nodejs', 'util-linux', 'login', 'iproute2', 'nfs-common', 'e2fsprogs', 'kmod', 'dropbear'];
// dropbear: the router's SSH server. By size: dropbear-bin and its two
// libraries (libtomcrypt, libtommath) install about 2 MB; openssh-server
// with the client it depends on and its Kerberos libraries about 10 MB.
// A board with INIT=sysvinit gets sysvinit-core in systemd-sysv's place.
// udev stays: initramfs-tools-core depends on it, and the initramfs needs
// it to load the disk's driver.
function packagesFor(init: Board['init']): string[] {
  return init === 'systemd' ? PACKAGES : PACKAGES.map((p) => (p === 'systemd-sysv' ? 'sysvinit-core' : p));
}
// Merged /usr made by mmdebstrap's own hook (the symlinks first, then
// usr-is-merged): without it the tree was merged by the usrmerge package,
// which stayed installed and kept the whole of perl (50 MiB) with it.
const MERGED_USR_HOOKS = '/usr/share/mmdebstrap/hooks/merged-usr';
// Small initramfs: only the modules the board lists (Debian's MODULES=most
// initrd is 36 MB and panics in 128 MiB of RAM).
const SETUP_HOOK = 'mkdir -p "$1/etc/initramfs-tools/conf.d" && echo MODULES=list > "$1/etc/initramfs-tools/conf.d/roroot"';
// A router has no reader for documentation, manual pages or translations
// (they were 58 MiB of the root), nor for udev's names of PCI and USB
// vendors and models and of MAC address prefixes (what lspci and lsusb
// print: 9 MiB of sources, and udev's postinst compiles a hwdb.bin of
// 0.4 MiB instead of 13). mmdebstrap leaves these dpkg options in
// the tree (/etc/dpkg/dpkg.cfg.d/99mmdebstrap), so a package installed on
// the router later is unpacked without them too. The copyright files stay:
// they are the licences of what the image ships. dpkg matches the paths
// a package ships, and bookworm's udev ships /lib/udev (not /usr/lib/udev).
const DPKG_OPTIONS = [
  'path-exclude=/usr/share/doc/*',
  'path-include=/usr/share/doc/*/copyright',
  'path-exclude=/usr/share/man/*',
  'path-exclude=/usr/share/info/*',
  'path-exclude=/usr/share/locale/*',
  'path-include=/usr/share/locale/locale.alias',
  'path-exclude=/usr/share/lintian/*',
  'path-exclude=/lib/udev/hwdb.d/20-*vendor*.hwdb',
  'path-exclude=/lib/udev/hwdb.d/20-OUI.hwdb',
];

export function rootfsTarball(cacheDir: string, say: (line: string) => void, init: Board['init'] = 'systemd'): string {
  const mmdebstrap = execFileSync('mmdebstrap', ['--version'], { encoding: 'utf8' }).trim();
  const packages = packagesFor(init);
  const key = createHash('sha256').update(JSON.stringify({ SUITE, PACKAGES: packages, MERGED_USR_HOOKS, SETUP_HOOK, DPKG_OPTIONS, mmdebstrap })).digest('hex').slice(0, 16);
  const tar = join(cacheDir, `rootfs-${SUITE}-${key}.tar`);
  if (existsSync(tar) && statSync(tar).isFile()) {
    say(`root filesystem from the cache: ${tar}`);
    return tar;
  }
  mkdirSync(cacheDir, { recursive: true });
  say(`building the root filesystem (mmdebstrap, about a minute): ${tar}`);
  const t0 = Date.now();
  // --format=tar: mmdebstrap picks the format from the extension otherwise.
  const r = spawnSync('mmdebstrap', ['--variant=minbase', '--format=tar', `--include=${packages.join(',')}`, `--hook-dir=${MERGED_USR_HOOKS}`, `--setup-hook=${SETUP_HOOK}`, ...DPKG_OPTIONS.map((o) => `--dpkgopt=${o}`), SUITE, `${tar}.tmp`], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`mmdebstrap failed (exit ${r.status})`);
  renameSync(`${tar}.tmp`, tar);
  say(`root filesystem built in ${Math.round((Date.now() - t0) / 1000)} s`);
  return tar;
}

export const DEFAULT_CACHE = process.env.RORORT_CACHE ?? '/var/cache/roroot';
