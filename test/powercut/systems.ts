import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { rootPartition } from './root-check';

// The two systems a campaign cuts: the reference router (roroot), and the
// same image without roroot, its root read-write the stock Debian way
// (board/plain-image.ts). Each is driven through the same scenarios; what a
// scenario types differs only where the systems do: where the NFS export
// is, how a package is installed, where persistent data lives.

export type SystemName = 'roroot' | 'baseline';

export interface System {
  name: SystemName;
  image: string; // the base the recording and every crash state start from
  setup: string; // run once after the first login
  remote: string; // the NFS export inside the guest
  install: (deb: string) => string;
  sentinel: string; // a persistent file the user stored
  records: string; // the NFS writer's file
}

export const SENTINEL_TEXT = 'stored before the cut';

export function roroot(image: string): System {
  return {
    name: 'roroot',
    image,
    setup: 'true',
    remote: '/var/lib/roroot/remote',
    install: (deb) => `roroot rw -- dpkg -i ${deb}`,
    sentinel: '/var/lib/roroot-data/sentinel',
    records: '/var/lib/roroot-data/records',
  };
}

export function baseline(image: string): System {
  return {
    name: 'baseline',
    image,
    // The plain image has no network configuration of its own (roroot's
    // initramfs brings ens3 up): the address QEMU's DHCP would give.
    setup: 'ip link set ens3 up && ip addr add 10.0.2.15/24 dev ens3 && mkdir -p /mnt/remote && mount -t nfs -o rw,nolock 10.0.2.100:/export /mnt/remote',
    remote: '/mnt/remote',
    // Stock Debian: install, and regenerate modules.dep, on the live root.
    install: (deb) => `dpkg -i ${deb} && depmod -a`,
    sentinel: '/var/lib/powercut-sentinel',
    records: '/mnt/remote/var/lib/roroot-data/records',
  };
}

// The reference image with modules.dep deleted, so that every boot of the
// recording (and of its crash states, until one completes it) regenerates
// it in a read-write window: that window is a scenario. Kept beside the
// campaign, made again when the image is newer.
export function staleModulesImage(image: string, out: string): string {
  if (existsSync(out) && statSync(out).mtimeMs > statSync(image).mtimeMs) return out;
  mkdirSync(dirname(out), { recursive: true });
  execFileSync('cp', ['--sparse=always', image, `${out}.tmp`]);
  const fs = `${out}.tmp?offset=${rootPartition(image).start}`;
  const listing = execFileSync('debugfs', ['-R', 'ls /lib/modules', fs], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const release = listing.split(/\s+/).find((w) => /^\d+\.\d+\.\d+-/.test(w));
  if (!release) throw new Error(`no kernel release under /lib/modules in ${image}`);
  execFileSync('debugfs', ['-w', '-R', `rm /lib/modules/${release}/modules.dep`, fs], { stdio: 'ignore' });
  execFileSync('mv', [`${out}.tmp`, out]);
  return out;
}

export const recordingDir = (work: string, system: SystemName) => join(work, system);
