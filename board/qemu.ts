// The QEMU command line for a router image: its own disk (booted from its
// MBR, no -kernel), a serial console on stdio, virtio NIC on QEMU user
// networking with restrict=on, and at most one way out: guestfwd of
// 10.0.2.100:2049 to the NFS server on 127.0.0.1 (through socat).
//
// TCG unless RORORT_ACCEL=kvm: /dev/kvm exists on these machines but nested
// KVM hangs Linux guests (see DESIGN.md), and a test must never depend on it.

export interface QemuOptions {
  disk: string; // raw image or qcow2 overlay
  format: 'raw' | 'qcow2';
  memMiB: number;
  nfsPort: number | null;
  netIndex?: number; // the guest's own network 10.0.<n>.0/24 (fleets)
}

export function qemuArgs(o: QemuOptions): string[] {
  const net = o.netIndex ?? 2;
  // cmd: runs one relay per guest connection. The tcp: form connects once
  // when QEMU starts (QEMU 7.2): it cannot start while the server is down
  // and never reconnects after the server restarts. While the server is
  // down the relay keeps trying for a minute instead of closing at once: a
  // relay that closed at once had the guest's NFS client reconnect in a
  // tight loop, one socat per try, and starved the guest. (",," is a comma
  // inside a QEMU option.)
  const relay = `socat STDIO TCP:127.0.0.1:${o.nfsPort},,retry=60,,interval=1`;
  const forward = o.nfsPort ? `,guestfwd=tcp:10.0.${net}.100:2049-cmd:${relay}` : '';
  const accel = process.env.RORORT_ACCEL === 'kvm' ? ['-accel', 'kvm', '-accel', 'tcg'] : ['-accel', 'tcg'];
  return [
    ...accel,
    '-m', String(o.memMiB),
    // Only what a router has: no VGA, floppy or CD-ROM to probe at boot.
    '-nodefaults',
    '-display', 'none',
    '-serial', 'mon:stdio',
    '-no-reboot',
    '-drive', `file=${o.disk},format=${o.format},if=virtio`,
    '-netdev', `user,id=n0,restrict=on,net=10.0.${net}.0/24${forward}`,
    // Slot 3, where the board's NET_IFACE (ens3) expects it: with
    // -nodefaults slot 2 is free and the NIC would become ens2.
    '-device', 'virtio-net-pci,netdev=n0,addr=0x3',
  ];
}
