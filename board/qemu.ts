import type { Board } from '../init/config/board';

// The QEMU command line for a router image: its own disk (booted from its
// MBR, no -kernel), a serial console on stdio, the board's own disk
// interface and NIC on QEMU user networking with restrict=on, and at most
// one way out: guestfwd of the board's NFS server address, port 2049, to
// the NFS server on 127.0.0.1 (through socat).
//
// TCG unless RORORT_ACCEL=kvm: /dev/kvm exists on these machines but nested
// KVM hangs Linux guests (see DESIGN.md), and a test must never depend on it.

// What QEMU emulates of a board: derived from its profile (hardwareOf).
export interface Hardware {
  disk: 'virtio' | 'ide'; // -drive if=
  nic: string; // QEMU's -device for the NIC
  // Where the board's NFS server is (REMOTE or CLIENTSTATE); the guest's
  // network is the /24 around it.
  nfsAddress: string;
}

// The reference board's (qemu-x86_64): virtio disk and NIC, the server at
// 10.0.2.100 in QEMU's default network.
export const VIRTIO_HARDWARE: Hardware = { disk: 'virtio', nic: 'virtio-net-pci', nfsAddress: '10.0.2.100' };

// Drivers of the board's DISK_MODULES and NET_MODULES that QEMU (7.2)
// has a device for; the first one the board lists is the one it gets.
const DISKS: Record<string, Hardware['disk']> = { virtio_blk: 'virtio', ata_piix: 'ide' };
const NICS: Record<string, string> = { virtio_net: 'virtio-net-pci', e1000: 'e1000', e1000e: 'e1000e', '8139too': 'rtl8139', pcnet32: 'pcnet', vmxnet3: 'vmxnet3' };

export function hardwareOf(board: Board): Hardware {
  const disk = board.diskModules.map((m) => DISKS[m]).find(Boolean);
  const nic = board.netModules.map((m) => NICS[m]).find(Boolean);
  if (!disk) throw new Error(`board ${board.name}: QEMU emulates none of DISK_MODULES (${board.diskModules.join(' ')}); it has ${Object.keys(DISKS).join(', ')}`);
  if (!nic) throw new Error(`board ${board.name}: QEMU emulates none of NET_MODULES (${board.netModules.join(' ')}); it has ${Object.keys(NICS).join(', ')}`);
  const server = board.remote ?? board.clientState;
  const host = server?.slice(0, server.indexOf(':'));
  if (host !== undefined && !/^(\d{1,3}\.){3}\d{1,3}$/.test(host)) throw new Error(`board ${board.name}: ${server}: QEMU can map only an IPv4 address to the test's NFS server`);
  return { disk, nic, nfsAddress: host ?? VIRTIO_HARDWARE.nfsAddress };
}

export interface QemuOptions {
  disk: string; // raw image, qcow2 overlay, or an NBD server's unix socket
  format: 'raw' | 'qcow2' | 'nbd';
  hardware?: Hardware; // VIRTIO_HARDWARE when not given
  // The fleet's shared image: every guest opens the one file read-only
  // (QEMU takes a shared lock, so guests can share it but no writer can).
  readOnly?: boolean;
  scratchDisk?: string; // a raw file of its own, the guest's second disk
  memMiB: number;
  tcgCacheMiB?: number;
  nfsPort: number | null;
  // Fleet member n gets .(15+n) from its own DHCP server: every guest has
  // a network of its own, yet sees the NFS server at the same address the
  // one image names.
  fleetIndex?: number;
  // The router's SSH server on this port of 127.0.0.1 (hostfwd: a
  // connection from the host in; restrict=on still keeps the guest from
  // reaching anything out).
  sshPort?: number;
  // A reboot reboots (A/B upgrades: a trial slot, GRUB counting tries);
  // otherwise -no-reboot makes it end QEMU, so that a test sees it.
  reboots?: boolean;
  mediaDisk?: string; // a raw file the guest reads only (a stick with update files)
}

export function qemuArgs(o: QemuOptions): string[] {
  const hw = o.hardware ?? VIRTIO_HARDWARE;
  const net = hw.nfsAddress.replace(/\.\d+$/, '');
  const dhcp = o.fleetIndex === undefined ? '' : `,dhcpstart=${net}.${15 + o.fleetIndex}`;
  // cmd: runs one relay per guest connection. The tcp: form connects once
  // when QEMU starts (QEMU 7.2): it cannot start while the server is down
  // and never reconnects after the server restarts. While the server is
  // down the relay keeps trying for a minute instead of closing at once: a
  // relay that closed at once had the guest's NFS client reconnect in a
  // tight loop, one socat per try, and starved the guest. (",," is a comma
  // inside a QEMU option.)
  const relay = `socat STDIO TCP:127.0.0.1:${o.nfsPort},,retry=60,,interval=1`;
  const forward = o.nfsPort ? `,guestfwd=tcp:${hw.nfsAddress}:2049-cmd:${relay}` : '';
  const ssh = o.sshPort ? `,hostfwd=tcp:127.0.0.1:${o.sshPort}-:22` : '';
  // TCG's translation cache is 1 GiB by default (QEMU 5.0 on) and a boot
  // fills most of it: a 256 MiB guest cost 939 MiB of host memory. A fleet
  // on one host caps it (tcgCacheMiB).
  const tcg = o.tcgCacheMiB ? `tcg,tb-size=${o.tcgCacheMiB}` : 'tcg'; // 0: QEMU's default
  const accel = process.env.RORORT_ACCEL === 'kvm' ? ['-accel', 'kvm', '-accel', tcg] : ['-accel', tcg];
  return [
    ...accel,
    '-m', String(o.memMiB),
    // Only what a router has: no VGA, floppy or CD-ROM to probe at boot.
    '-nodefaults',
    '-display', 'none',
    '-serial', 'mon:stdio',
    ...(o.reboots ? [] : ['-no-reboot']),
    ...diskArgs(o, hw),
    ...(o.scratchDisk ? ['-drive', `file=${o.scratchDisk},format=raw,if=${hw.disk}`] : []),
    ...(o.mediaDisk ? ['-drive', `file=${o.mediaDisk},format=raw,if=${hw.disk},readonly=on`] : []),
    // QEMU's slirp wants the guestfwd address inside the guest's network.
    '-netdev', `user,id=n0,restrict=on,net=${net}.0/24${dhcp}${forward}${ssh}`,
    // Slot 3 on every board, so the NIC's name in the guest stays ens3 for
    // what addresses it by name (the power-cut harness's baseline, which
    // has no network hook). roroot's own hook takes whatever name it has.
    '-device', `${hw.nic},netdev=n0,addr=0x3`,
  ];
}

// An NBD disk is the power-cut harness's (test/powercut/): virtio-blk with
// its write cache on, so the guest flushes as it would on a real disk with a
// volatile cache, and the server sees every FLUSH.
function diskArgs(o: QemuOptions, hw: Hardware): string[] {
  if (o.format === 'nbd') {
    if (hw.disk !== 'virtio') throw new Error(`an NBD disk is attached as virtio-blk, not ${hw.disk}`);
    return ['-blockdev', `driver=nbd,server.type=unix,server.path=${o.disk},node-name=disk0`, '-device', 'virtio-blk-pci,drive=disk0,write-cache=on'];
  }
  return ['-drive', `file=${o.disk},format=${o.format},if=${hw.disk}${o.readOnly ? ',readonly=on' : ''}`];
}
