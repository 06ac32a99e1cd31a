// Pure: which of the kernel's modules a router image keeps. Debian's kernel
// ships 4000 modules (396 MiB, half the root filesystem), most of them for
// hardware no router has (GPUs, sound, media, wireless, HBAs). A router
// keeps what it needs to boot from its disk, to reach its network and to
// route (the directories below, relative to /lib/modules/RELEASE/kernel),
// what its board adds (EXTRA_MODULE_DIRS), the modules the board names for
// its initramfs, and every module those depend on (modules.dep).

export const ROUTER_MODULE_DIRS = [
  // Storage: SATA/IDE, SCSI disks, NVMe, virtio, SD/eMMC, USB sticks.
  'drivers/ata',
  'drivers/scsi/scsi_mod.ko',
  'drivers/scsi/scsi_common.ko',
  'drivers/scsi/sd_mod.ko',
  'drivers/scsi/sr_mod.ko',
  'drivers/scsi/sg.ko',
  'drivers/scsi/virtio_scsi.ko',
  'drivers/nvme/host',
  'drivers/block/loop.ko',
  'drivers/block/nbd.ko',
  'drivers/block/virtio_blk.ko',
  'drivers/virtio',
  'drivers/mmc',
  'drivers/usb/core',
  'drivers/usb/common',
  'drivers/usb/host',
  'drivers/usb/storage',
  // Filesystems: the root and scratch, NFS for state, FAT and exFAT for
  // sticks, overlay and squashfs; systemd's own (autofs4, configfs,
  // binfmt_misc).
  'fs/ext4',
  'fs/jbd2',
  'fs/mbcache.ko',
  'fs/fat',
  'fs/exfat',
  'fs/nls/nls_cp437.ko',
  'fs/nls/nls_iso8859-1.ko',
  'fs/nls/nls_utf8.ko',
  'fs/overlayfs',
  'fs/squashfs',
  'fs/nfs',
  'fs/nfs_common',
  'fs/lockd',
  'fs/fscache',
  'fs/netfs',
  'fs/autofs',
  'fs/configfs',
  'fs/binfmt_misc.ko',
  'net/dns_resolver',
  // The crypto API loads algorithms by alias at run time (ext4 and jbd2
  // ask for "crypto-crc32c"), so no dependency list names them: all stay.
  'crypto',
  'arch/x86/crypto',
  // Network drivers of common router NICs: Intel (e1000, e1000e, igb, igc,
  // ixgbe, i40e), Realtek (r8169, 8139too), Broadcom's PC NICs, Marvell,
  // Atheros, VIA; virtio; USB Ethernet and LTE modems; the PHYs they drive.
  'drivers/net/ethernet/intel/e1000',
  'drivers/net/ethernet/intel/e1000e',
  'drivers/net/ethernet/intel/igb',
  'drivers/net/ethernet/intel/igc',
  'drivers/net/ethernet/intel/ixgbe',
  'drivers/net/ethernet/intel/i40e',
  'drivers/net/ethernet/realtek',
  'drivers/net/ethernet/broadcom/tg3.ko',
  'drivers/net/ethernet/broadcom/bnx2.ko',
  'drivers/net/ethernet/broadcom/b44.ko',
  'drivers/net/ethernet/marvell',
  'drivers/net/ethernet/atheros',
  'drivers/net/ethernet/via',
  'drivers/net/virtio_net.ko',
  'drivers/net/usb',
  'drivers/net/phy',
  'drivers/net/mdio',
  // Routing: netfilter (nftables, iptables, conntrack, NAT), bridge, VLAN,
  // traffic control, tunnels, IPsec, PPP (PPPoE, L2TP), WireGuard, and the
  // virtual devices a router config builds on.
  'net/netfilter',
  'net/ipv4',
  'net/ipv6',
  'net/bridge',
  'net/8021q',
  'net/sched',
  'net/key',
  'net/xfrm',
  'net/l2tp',
  'drivers/net/ppp',
  'drivers/net/wireguard',
  'drivers/net/bonding',
  'drivers/net/tun.ko',
  'drivers/net/veth.ko',
  'drivers/net/macvlan.ko',
  'drivers/net/ifb.ko',
  'drivers/net/dummy.ko',
  'drivers/net/vxlan',
];

// "kernel/fs/fat/vfat.ko" -> "vfat"; modprobe treats - and _ alike.
export const moduleName = (path: string) =>
  path
    .slice(path.lastIndexOf('/') + 1)
    .replace(/\.ko(\.(xz|zst|gz))?$/, '')
    .replace(/-/g, '_');

export interface ModuleChoice {
  keep: Set<string>; // paths as modules.dep has them (kernel/...)
  problems: string[]; // a directory or a name that matches no module
}

// modules.dep lists, for each module, every module it needs (depmod writes
// the whole closure); following it again costs nothing and does not rely
// on that. A name in modules.builtin is in the kernel itself: nothing to keep.
export function chooseModules(modulesDep: string, modulesBuiltin: string, dirs: string[], names: string[]): ModuleChoice {
  const deps = new Map<string, string[]>();
  for (const line of modulesDep.split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) deps.set(line.slice(0, colon), line.slice(colon + 1).split(' ').filter(Boolean));
  }
  const all = [...deps.keys()];
  const problems: string[] = [];
  const wanted: string[] = [];
  for (const dir of dirs) {
    const under = all.filter((m) => m === `kernel/${dir}` || m.startsWith(`kernel/${dir}/`));
    if (under.length === 0) problems.push(`${dir}: no module there`);
    wanted.push(...under);
  }
  const builtin = new Set(modulesBuiltin.split('\n').filter(Boolean).map(moduleName));
  for (const name of names) {
    if (builtin.has(name.replace(/-/g, '_'))) continue;
    const found = all.find((m) => moduleName(m) === name.replace(/-/g, '_'));
    if (found) wanted.push(found);
    else problems.push(`${name}: no such module`);
  }
  const keep = new Set<string>();
  while (wanted.length > 0) {
    const m = wanted.pop() as string;
    if (keep.has(m)) continue;
    keep.add(m);
    wanted.push(...(deps.get(m) ?? []));
  }
  return { keep, problems };
}
