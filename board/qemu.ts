// The QEMU command line for a router image: its own disk (booted from its
// MBR, no -kernel), a serial console on stdio, virtio NIC on QEMU user
// networking with restrict=on, and at most one way out: guestfwd of
// 10.0.2.100:2049 to the NFS server on 127.0.0.1 (through socat).
//
// TCG unless RORORT_ACCEL=kvm: /dev/kvm exists on these machines but nested
// KVM hangs Linux guests (see DESIGN.md), and a test must never depend on it.

export interface QemuOptions {
  disk: string; // raw image, qcow2 overlay, or an NBD server's unix socket
  format: 'raw' | 'qcow2' | 'nbd';
  // The fleet's shared image: every guest opens the one file read-only
  // (QEMU takes a shared lock, so guests can share it but no writer can).
  readOnly?: boolean;
  scratchDisk?: string; // a raw file of its own, the guest's /dev/vdb
  memMiB: number;
  tcgCacheMiB?: number;
  nfsPort: number | null;
  // Fleet member n gets 10.0.2.(15+n) from its own DHCP server: every guest
  // has a network of its own, yet sees the NFS server at the same address
  // the one image names.
  fleetIndex?: number;
}

export function qemuArgs(o: QemuOptions): string[] {
  const dhcp = o.fleetIndex === undefined ? '' : `,dhcpstart=10.0.2.${15 + o.fleetIndex}`;
  // cmd: runs one relay per guest connection. The tcp: form connects once
  // when QEMU starts (QEMU 7.2): it cannot start while the server is down
  // and never reconnects after the server restarts. While the server is
  // down the relay keeps trying for a minute instead of closing at once: a
  // relay that closed at once had the guest's NFS client reconnect in a
  // tight loop, one socat per try, and starved the guest. (",," is a comma
  // inside a QEMU option.)
  const relay = `socat STDIO TCP:127.0.0.1:${o.nfsPort},,retry=60,,interval=1`;
  const forward = o.nfsPort ? `,guestfwd=tcp:10.0.2.100:2049-cmd:${relay}` : '';
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
    '-no-reboot',
    ...diskArgs(o),
    ...(o.scratchDisk ? ['-drive', `file=${o.scratchDisk},format=raw,if=virtio`] : []),
    '-netdev', `user,id=n0,restrict=on,net=10.0.2.0/24${dhcp}${forward}`,
    // Slot 3, where the board's NET_IFACE (ens3) expects it: with
    // -nodefaults slot 2 is free and the NIC would become ens2.
    '-device', 'virtio-net-pci,netdev=n0,addr=0x3',
  ];
}

// An NBD disk is the power-cut harness's (test/powercut/): virtio-blk with
// its write cache on, so the guest flushes as it would on a real disk with a
// volatile cache, and the server sees every FLUSH.
function diskArgs(o: QemuOptions): string[] {
  if (o.format === 'nbd') {
    return ['-blockdev', `driver=nbd,server.type=unix,server.path=${o.disk},node-name=disk0`, '-device', 'virtio-blk-pci,drive=disk0,write-cache=on'];
  }
  return ['-drive', `file=${o.disk},format=${o.format},if=virtio${o.readOnly ? ',readonly=on' : ''}`];
}
