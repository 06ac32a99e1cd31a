import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { rootPartition } from './root-check';
import { SCENARIOS, type Scenario } from './scenarios';

// The systems a campaign cuts: the reference router as it ships (roroot),
// the same with modules.dep deleted so that its boot opens a read-write
// window (roroot-stale: the window case), the same image without roroot,
// its root read-write the stock Debian way (baseline, board/plain-image.ts),
// and the control: the reference router on the layout of before ERASE_BLOCK,
// partitions on 1 MiB boundaries, the scratch sharing the root's last
// erase block (roroot-misaligned). Each is driven through the same
// scenarios; what a scenario types differs only where the systems do.
// The two-slot router (roroot-ab, board/qemu-ab.conf) is recorded through
// an A/B upgrade instead (record-upgrade.ts): its one scenario.

export const SYSTEMS = ['roroot', 'roroot-stale', 'baseline', 'roroot-misaligned', 'roroot-ab'] as const;
export type SystemName = (typeof SYSTEMS)[number];

// The scenarios a system's recording goes through.
export function scenariosOf(name: SystemName): readonly Scenario[] {
  return name === 'roroot-ab' ? ['upgrade'] : SCENARIOS.filter((s) => s !== 'upgrade');
}

export interface System {
  name: SystemName;
  roroot: boolean; // roroot's boot stage runs: the root is read-only
  image: string; // the base the recording and every crash state start from
  setup: string; // run once after the first login
  remote: string; // the NFS export inside the guest
  install: (deb: string) => string;
  sentinel: string; // a persistent file the user stored
  records: string; // the NFS writer's file
}

export const SENTINEL_TEXT = 'stored before the cut';

export interface Images {
  image: string; // the reference router
  plainImage: string; // the same without roroot
  misalignedImage: string; // the reference router, ERASE_BLOCK=1MiB
  abImage?: string; // the two-slot router, slot A filled
  abUpdate?: string; // its update (make update: <version>-next), for slot B
  work: string; // where the stale image is kept
}

export function system(name: SystemName, images: Images): System {
  if (name === 'baseline') return systemOn(name, images.plainImage);
  if (name === 'roroot-ab') {
    if (!images.abImage) throw new Error('roroot-ab: no two-slot image given (--ab-image)');
    return systemOn(name, images.abImage);
  }
  return systemOn(name, name === 'roroot-stale' ? staleModulesImage(images.image, join(images.work, 'roroot-stale-modules.img')) : name === 'roroot-misaligned' ? images.misalignedImage : images.image);
}

// The system on an image made already (a recording's).
export function systemOn(name: SystemName, image: string): System {
  return name === 'baseline' ? baseline(image) : roroot(name, image);
}

function roroot(name: SystemName, image: string): System {
  return {
    name,
    roroot: true,
    image,
    setup: 'true',
    remote: '/var/lib/roroot/remote',
    install: (deb) => `roroot rw -- dpkg -i ${deb}`,
    sentinel: '/var/lib/roroot-data/sentinel',
    records: '/var/lib/roroot-data/records',
  };
}

function baseline(image: string): System {
  return {
    name: 'baseline',
    roroot: false,
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
