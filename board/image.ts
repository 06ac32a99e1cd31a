import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import minimist from 'minimist';
import type { Board } from '../init/config/board';
import { setSettings } from '../init/config/settings';
import { FIRMWARE } from '../init/config/own-paths';
import { rootMkfsArgs } from '../init/flash/flash';
import { diskSettings, fstabFor, layoutFor, type Layout } from '../init/flash/layout';
import { requireBoard } from '../init/flash/load-board';
import { chooseModules, ROUTER_MODULE_DIRS } from './kernel-modules';
import { DEFAULT_CACHE, rootfsTarball } from './rootfs';
import { buildUpdate, devKey } from './update-file';

// `make image`: the reference router's disk image, self-booting.
//   1. a Debian bookworm root filesystem (mmdebstrap --variant=minbase),
//      cached outside the repository under a key made of its inputs;
//   2. unpacked, configured for the board, its kernel modules cut down to
//      what a router needs, the roroot .deb installed into it with dpkg
//      (its postinst runs `roroot install` and builds the initramfs);
//   3. `roroot flash` onto a loop device over the image file.
// node build/board/image.js --board board/qemu-x86_64.conf --deb X.deb --out X.img
// With --update DIR (SLOTS=2 boards), step 3 is instead: the root
// filesystem image of one slot, DIR/<board>-<version>.img, and the signed
// update file made of it, DIR/<board>-<version>.rorootfw (board/update-file.ts).

const args = minimist(process.argv.slice(2), { string: ['board', 'deb', 'out', 'cache', 'password', 'update', 'version', 'keys'] });
const repo = resolve(__dirname, '../..');
const boardFile = resolve(args.board ?? 'board/qemu-x86_64.conf');
const out = resolve(args.out ?? `build/image/${basename(boardFile, '.conf')}.img`);
const deb = resolve(args.deb);
const cacheDir = args.cache ?? DEFAULT_CACHE;
const password = args.password ?? 'roroot';
// The firmware's version, in /etc/roroot/firmware (roroot upgrade --status).
const version: string = args.version ?? (JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string }).version;
// The development key pair (made by the build, never committed): its
// public half in every image, its private half signs the updates.
const key = devKey(resolve(args.keys ?? 'build/keys'));

function sh(cmd: string, argv: string[], input?: string, cwd?: string): string {
  return execFileSync(cmd, argv, { encoding: 'utf8', input, cwd, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'inherit'] });
}
const say = (line: string) => process.stdout.write(`image: ${line}\n`);
// qemu-user-static's (IMAGE_PACKAGES): the router's CPU for `roroot snapshot`.
const EMULATOR = '/usr/bin/qemu-x86_64-static';

// The board's roroot.conf keys, written through the one writer of that
// file (as the boot stage reads them). BOOTLOADER=flash: roroot flash
// writes fstab and extlinux.conf, init= included, so the package's
// `roroot install` (run by dpkg -i below) need not find a bootloader.
function rorootConf(b: Board): string {
  return setSettings(
    null,
    {
      VOLATILE: b.volatile.join(' '),
      ...(b.remote ? { REMOTE: b.remote } : {}),
      ...(b.persistent.length > 0 ? { PERSISTENT: b.persistent.join(' ') } : {}),
      ...(b.clientState ? { CLIENTSTATE: b.clientState } : {}),
      STATE_LABEL: b.stateLabel,
      DEVTMPFS: b.dev === 'devtmpfs' ? 'yes' : 'no',
      BOOTLOADER: 'flash',
      BOARD: b.name,
      ...(b.slots === 2 ? { UPGRADE_TRIES: String(b.upgradeTries), ...(b.upgradeHealth ? { UPGRADE_HEALTH: b.upgradeHealth } : {}) } : {}),
    },
    `# ${basename(boardFile)}: written by the image builder; roroot flash adds the disk's own keys.`,
  );
}

// sysvinit boards. One getty, on the board's serial console: the stock
// inittab's gettys on tty1-6 go, as a router has no screen, and without
// devtmpfs their nodes do not exist, so init would respawn them forever.
// nfs-common's rc script starts statd unless told not to; statd wants
// /var/lib/nfs writable and failed at every boot, and roroot mounts its
// NFS with nolock, so no statd is needed.
function sysvinitSetup(tree: string, b: Board) {
  const inittab = readFileSync(join(tree, 'etc/inittab'), 'utf8').replace(/^([1-6]:\d+:respawn:\/sbin\/getty .* tty[1-6])$/gm, '#$1');
  writeFileSync(join(tree, 'etc/inittab'), `${inittab}\nT0:2345:respawn:/sbin/getty -L ${b.console} ${b.consoleSpeed} vt100\n`);
  const nfs = join(tree, 'etc/default/nfs-common');
  writeFileSync(nfs, readFileSync(nfs, 'utf8').replace(/^NEED_STATD=.*$/m, 'NEED_STATD=no'));
}

// Block majors of the disks a board names (vdX, sdX; no kernel names a
// disk hdX since the old IDE drivers went). virtio_blk asks for a dynamic
// major and gets the first one the kernel hands out, 254, as it is the
// first block driver in this initramfs to ask (static-dev.vm.test checks it
// against /sys/block/vda/dev).
const DISK_MAJORS: Record<string, { major: number; minorsPerDisk: number }> = { vd: { major: 254, minorsPerDisk: 16 }, sd: { major: 8, minorsPerDisk: 16 } };

// DEV=static: the nodes the router needs live on the read-only root, as on
// a system from before devtmpfs. The initramfs keeps its devtmpfs to itself
// (board/static-dev-udev, over initramfs-tools' init-bottom/udev that moves
// it onto the root), and udev's rcS script, which would mount one, is off
// (a static /dev comes with sysvinit: parseBoard refuses it with systemd).
function staticDev(tree: string, b: Board, layout: Layout) {
  const disk = /^\/dev\/([a-z]+?)([a-z])$/.exec(b.disk);
  const kind = disk ? DISK_MAJORS[disk[1]] : undefined;
  if (!disk || !kind) throw new Error(`DEV=static: no static node rule for DISK=${b.disk}`);
  const first = (disk[2].charCodeAt(0) - 97) * kind.minorsPerDisk;
  const console = /^ttyS(\d+)$/.exec(b.console);
  if (!console) throw new Error(`DEV=static: CONSOLE=${b.console} is not a serial port`);
  // No mknod -m: it sets the mode through /proc, which the chroot lacks.
  const node = (name: string, type: string, major: number, minor: number, mode: string, group: string) => `rm -f ${name}; mknod ${name} ${type} ${major} ${minor}; chmod ${mode} ${name}; chgrp ${group} ${name}`;
  const name = b.disk.slice('/dev/'.length);
  const nodes = [
    node('console', 'c', 5, 1, '600', 'root'),
    // 0620 root:tty, as login leaves a tty it owns, not udev's 0660
    // root:dialout: chown/chmod at login fail with EROFS here, and the shim
    // excuses that only for a tty no one else can read (OpenSSH's rule).
    node(b.console, 'c', 4, 64 + Number(console[1]), '620', 'tty'),
    node('kmsg', 'c', 1, 11, '644', 'root'),
    node(name, 'b', kind.major, first, '660', 'disk'),
    ...layout.partitions.map((p) => node(`${name}${p.number}`, 'b', kind.major, first + p.number, '660', 'disk')),
  ];
  sh('chroot', [tree, 'sh', '-euc', `cd /dev\n${nodes.join('\n')}`]);
  mkdirSync(join(tree, 'etc/initramfs-tools/scripts/init-bottom'), { recursive: true });
  copyFileSync(join(repo, 'board/static-dev-udev'), join(tree, 'etc/initramfs-tools/scripts/init-bottom/udev'));
  chmodSync(join(tree, 'etc/initramfs-tools/scripts/init-bottom/udev'), 0o755);
  sh('chroot', [tree, 'update-rc.d', 'udev', 'disable', 'S']);
}

// Only the modules a router needs (board/kernel-modules.ts), then depmod:
// the image ships a modules.dep that is current, so its first boot opens
// no read-write window to regenerate it. Before the .deb, whose postinst
// builds the initramfs from what is left.
function pruneModules(tree: string, b: Board, initramfsModules: string[]) {
  const base = join(tree, 'usr/lib/modules');
  for (const release of readdirSync(base)) {
    const dir = join(base, release);
    const { keep, problems } = chooseModules(readFileSync(join(dir, 'modules.dep'), 'utf8'), readFileSync(join(dir, 'modules.builtin'), 'utf8'), [...ROUTER_MODULE_DIRS, ...b.extraModuleDirs], initramfsModules);
    if (problems.length > 0) throw new Error(`kernel ${release}: ${problems.join('; ')}`);
    const all = sh('find', ['kernel', '-type', 'f', '-name', '*.ko*'], undefined, dir).split('\n').filter(Boolean);
    for (const m of all) if (!keep.has(m)) unlinkSync(join(dir, m));
    sh('find', ['kernel', '-type', 'd', '-empty', '-delete'], undefined, dir);
    sh('chroot', [tree, 'depmod', '-a', release]);
    say(`kernel ${release}: ${keep.size} of ${all.length} modules kept, modules.dep made again`);
  }
}

// Nothing of one router's identity in the image: every router flashed
// from it would share it. The boot stage makes each item on the router's
// state at its first boot and binds it over the place kept here
// (init/places/identity.ts): an empty /etc/machine-id (a file to bind
// over; systemd would otherwise make one up at every boot), /etc/dropbear
// without the host keys dropbear's postinst made in the build, no random
// seed.
function noBakedIdentity(tree: string) {
  writeFileSync(join(tree, 'etc/machine-id'), '');
  rmSync(join(tree, 'var/lib/dbus/machine-id'), { force: true });
  const keys = join(tree, 'etc/dropbear');
  mkdirSync(keys, { recursive: true });
  for (const name of readdirSync(keys)) if (/_host_key$/.test(name)) rmSync(join(keys, name));
  for (const seed of ['var/lib/systemd/random-seed', 'var/lib/urandom/random-seed']) rmSync(join(tree, seed), { force: true });
}

// One slot's root filesystem, as roroot flash makes slot A (the same
// files: on a SLOTS=2 board they name no device of a disk), and the signed
// update file of it.
async function update(b: Board, layout: Layout, tree: string, t0: number) {
  if (b.slots !== 2) throw new Error(`board ${b.name} has SLOTS=1: an update needs two root slots`);
  writeFileSync(join(tree, 'etc/fstab'), fstabFor(b, layout));
  writeFileSync(join(tree, 'etc/roroot.conf'), setSettings(readFileSync(join(tree, 'etc/roroot.conf'), 'utf8'), diskSettings(b, layout)));
  const dir = resolve(args.update);
  mkdirSync(dir, { recursive: true });
  const image = join(dir, `${b.name}-${version}.img`);
  writeFileSync(`${image}.tmp`, '');
  truncateSync(`${image}.tmp`, b.rootSizeMiB * 1024 * 1024);
  sh('mkfs.ext4', [...rootMkfsArgs(tree), `${image}.tmp`]);
  shrink(`${image}.tmp`);
  renameSync(`${image}.tmp`, image);
  const file = join(dir, `${b.name}-${version}.rorootfw`);
  const h = await buildUpdate({ image, board: b.name, version, privatePem: key.privatePem, out: file });
  say(`${file}: ${b.name} ${version}, ${Math.round(h.payloadSize / 1048576)} MiB (image ${Math.round(h.imageSize / 1048576)} MiB, sha256 ${h.imageSha256.slice(0, 16)}...), built in ${Math.round((Date.now() - t0) / 1000)} s`);
}

// The image is its filesystem shrunk to what it holds and SLOT_SPARE_MIB
// more (the slot's partition keeps its size; the filesystem says its own):
// every byte of an image is written, read back past the page cache and
// hashed at the trial boot, and the empty quarter of a 448 MiB root made
// each of those a quarter longer (minutes under QEMU's TCG). The spare
// room is for a read-write window on the slot (roroot rw).
const SLOT_SPARE_MIB = 32;
function shrink(image: string) {
  sh('e2fsck', ['-fy', image]); // resize2fs wants a filesystem checked since its last change
  const min = Number(/: (\d+)/.exec(sh('resize2fs', ['-P', image]))?.[1]);
  const blockSize = Number(/^Block size:\s+(\d+)$/m.exec(sh('dumpe2fs', ['-h', image]))?.[1]);
  if (!(min > 0 && blockSize > 0)) throw new Error(`${image}: resize2fs -P and dumpe2fs -h did not say the filesystem's minimum size`);
  const blocks = min + (SLOT_SPARE_MIB * 1048576) / blockSize;
  sh('resize2fs', ['-f', image, String(blocks)]);
  truncateSync(image, blocks * blockSize);
}

async function main() {
  const t0 = Date.now();
  const b = requireBoard(boardFile);
  // Sizes and partitions only: roroot flash gives the disk its own id.
  const layout = layoutFor(b, '00000000');
  const tar = rootfsTarball(cacheDir, say, b.init);
  const work = mkdtempSync(join(tmpdir(), 'roroot-image-'));
  const tree = join(work, 'rootfs');
  let loop: string | null = null;
  try {
    mkdirSync(tree);
    sh('tar', ['-C', tree, '--numeric-owner', '-xpf', tar]);
    writeFileSync(join(tree, 'etc/roroot.conf'), rorootConf(b));
    const initramfsModules = [...b.diskModules, 'ext4', ...b.netModules];
    writeFileSync(join(tree, 'etc/initramfs-tools/modules'), initramfsModules.join('\n') + '\n');
    pruneModules(tree, b, initramfsModules);
    // No /etc/hostname: systemd would set it over the name roroot's boot
    // stage derives from the address (seed 000: the hostname comes from the IP).
    rmSync(join(tree, 'etc/hostname'), { force: true });
    writeFileSync(join(tree, 'etc/hosts'), '127.0.0.1\tlocalhost\n');
    // debootstrap leaves the build machine's resolv.conf in the rootfs: every
    // router booted asking the build host's nameserver (roroot's reverse
    // lookup for the hostname, 0.3 s under TCG, to an address that is not
    // the router's to ask). A router learns its resolver from its network.
    writeFileSync(join(tree, 'etc/resolv.conf'), '# no resolver: the network configuration writes one\n');
    sh('chroot', [tree, 'chpasswd'], `root:${password}\n`);
    if (b.init === 'systemd') {
      // e2scrub checks LVM snapshots of mounted ext4 filesystems: there are
      // none on a router, and its reaper hung boots whose NFS was down.
      for (const unit of ['e2scrub_reap.service', 'e2scrub_all.timer']) symlinkSync('/dev/null', join(tree, 'etc/systemd/system', unit));
    } else sysvinitSetup(tree, b);
    if (b.dev === 'static') staticDev(tree, b, layout);
    noBakedIdentity(tree);
    mkdirSync(join(tree, 'etc/roroot'), { recursive: true });
    writeFileSync(join(tree, FIRMWARE.slice(1)), `${version}\n`);
    writeFileSync(join(tree, 'etc/roroot/update.pub'), key.publicPem);
    copyFileSync(deb, join(tree, 'root/roroot.deb'));
    // The initramfs gets no fsck (its hook finds no root device to take the
    // type from in a tree built off its disk), and none is wanted: fstab
    // says pass 0 for the read-only root (fstabFor).
    // dpkg and update-initramfs want /proc, /sys and /dev: in a private
    // mount namespace, so nothing of this machine is touched.
    // The postinst built the boot stage's startup snapshot on this
    // machine's CPU, and V8 refuses a blob from a CPU unlike the router's:
    // built again on QEMU's baseline qemu64, in user-mode emulation
    // (init/snapshot-build.ts).
    copyFileSync(EMULATOR, join(tree, 'root/qemu-x86_64-static'));
    sh('unshare', ['--mount', '--propagation', 'private', 'sh', '-euc', `mount -t proc proc ${tree}/proc; mount -t sysfs sysfs ${tree}/sys; mount --rbind /dev ${tree}/dev
chroot ${tree} dpkg -i /root/roroot.deb
chroot ${tree} roroot snapshot --emulator /root/qemu-x86_64-static`]);
    rmSync(join(tree, 'root/roroot.deb'));
    rmSync(join(tree, 'root/qemu-x86_64-static'));
    if (args.update) return await update(b, layout, tree, t0);

    const sizeMiB = layout.minDiskMiB;
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(`${out}.tmp`, '');
    truncateSync(`${out}.tmp`, sizeMiB * 1024 * 1024);
    loop = sh('losetup', ['--find', '--show', `${out}.tmp`]).trim();
    const r = spawnSync('node', [join(repo, 'dist/roroot.js'), 'flash', '--disk', loop, '--board', boardFile, '--rootfs', tree, '--yes'], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`roroot flash failed (exit ${r.status})`);
    sh('losetup', ['-d', loop]);
    loop = null;
    renameSync(`${out}.tmp`, out);
    say(`${out}: ${sizeMiB} MiB (${Math.round(statSync(out).blocks / 2048)} MiB used), built in ${Math.round((Date.now() - t0) / 1000)} s`);
  } finally {
    if (loop) sh('losetup', ['-d', loop]);
    rmSync(work, { recursive: true, force: true });
    rmSync(`${out}.tmp`, { force: true });
  }
}

main().catch((err: Error) => {
  process.stderr.write(`image: ${err.message}\n`);
  process.exit(1);
});
