import type { Config } from '../config/config';
import { CONFIG_FILES } from '../config/config';
import { mountOptionsOf, type FstabEntry } from '../config/fstab';
import { mkfsArgv, mountArgv, TIMEOUT_SEC, type ScratchFs } from './argv';
import { deviceName, mkfsRefusal, oneDevice } from './devices';
import { hostOf, isMounted, mountPointToMake, type BlockDevice, type Facts } from './facts';
import { hardened } from './mount-options';
import type { Plan, Step } from './steps';
import { fstabEntryFor } from './wanted';

// The scratch space: the device the config names, re-made at every boot
// with mkfs and filled from the master copy in the same pass; a tmpfs
// filled with cp -a when there is none, when it may not be formatted
// (plan/devices.ts), or when mkfs or the mount fails.

export function masterCopy(config: Config, facts: Facts): string | null {
  const fact = facts.paths[config.settings.rwMaster];
  return fact && fact.follows === 'dir' ? fact.resolved : null;
}

// A tmpfs takes half the RAM unless told otherwise: RW_TMPFS_SIZE caps it
// (a quarter by default), unless its own options say size= or nr_blocks=.
function tmpfsOptions(config: Config, own: string[]): string[] {
  const s = config.settings;
  const opts = ['mode=0755', ...own, ...s.rwTmpfsOptions];
  if (!opts.some((o) => /^(size|nr_blocks)=/.test(o))) opts.splice(1, 0, `size=${s.rwTmpfsSize}`);
  return hardened(opts);
}

export function scratchTmpfs(config: Config, facts: Facts, why: string, own: string[] = []): Step[] {
  const s = config.settings;
  const target = hostOf(facts, s.rwMount);
  const steps: Step[] = [
    {
      id: 'scratch.tmpfs',
      phase: 'scratch',
      kind: 'mount',
      target: s.rwMount,
      mkdir: mountPointToMake(facts, s.rwMount),
      argv: mountArgv({ fstype: 'tmpfs', options: tmpfsOptions(config, own), source: 'tmpfs', target }),
      timeoutSec: TIMEOUT_SEC.mount,
      fatal: true,
      why,
    },
  ];
  const master = masterCopy(config, facts);
  if (master) {
    steps.push({ id: 'scratch.fill', phase: 'scratch', kind: 'fill', argv: ['cp', '-a', `${hostOf(facts, master)}/.`, target], timeoutSec: TIMEOUT_SEC.fill, fatal: false, needs: 'scratch.tmpfs', why: 'fill tmpfs from the master copy' });
  }
  return steps;
}

function specValue(spec: string, key: 'LABEL' | 'UUID'): string | null {
  return spec.startsWith(`${key}=`) ? spec.slice(key.length + 1) : null;
}

export function planScratch(config: Config, facts: Facts, plan: Plan) {
  const s = config.settings;
  if (isMounted(facts, s.rwMount)) {
    plan.notes.push(`scratch: ${s.rwMount} is already mounted (boot ran before): not re-made`);
    return;
  }
  if (!masterCopy(config, facts)) plan.warnings.push(`master copy ${s.rwMaster} is missing: the scratch space starts empty`);
  const fstab = fstabEntryFor(config, s.rwMount);
  if (fstab?.vfstype === 'tmpfs') {
    plan.steps.push(...scratchTmpfs(config, facts, `tmpfs from ${CONFIG_FILES.fstab}:${fstab.line}`, mountOptionsOf(fstab)));
    return;
  }
  const tmpfs = (warning: string) => {
    plan.warnings.push(`scratch: ${warning}: the scratch is a tmpfs`);
    plan.steps.push(...scratchTmpfs(config, facts, warning));
  };
  // Named: that device or none (never a stand-in found by label).
  const named = fstab ? { spec: fstab.spec, from: `${CONFIG_FILES.fstab}:${fstab.line}` } : s.rwDevice ? { spec: s.rwDevice, from: `RW_DEVICE=${s.rwDevice}` } : null;
  const wanted = named ?? (s.rwLabel ? { spec: `LABEL=${s.rwLabel}`, from: `RW_LABEL=${s.rwLabel}` } : null);
  if (!wanted) {
    plan.steps.push(...scratchTmpfs(config, facts, 'no scratch device configured (RW_DEVICE and RW_LABEL are empty)'));
    return;
  }
  const found = oneDevice(facts, wanted.spec);
  if ('error' in found) return tmpfs(`${wanted.from}: ${found.error}${named ? ' (a device named explicitly has no stand-in)' : ''}`);
  const refusal = mkfsRefusal(config, facts, found.device);
  if (refusal) return tmpfs(`refusing to mkfs ${deviceName(found.device)} (${wanted.from}): ${refusal}`);
  plan.steps.push(...mkfsAndMount(config, facts, found.device, wanted, fstab));
}

function mkfsAndMount(config: Config, facts: Facts, device: BlockDevice, wanted: { spec: string; from: string }, fstab: FstabEntry | null): Step[] {
  const s = config.settings;
  const fstype: ScratchFs = (['ext2', 'ext3', 'ext4'] as const).find((t) => t === fstab?.vfstype) ?? s.rwFstype;
  const master = masterCopy(config, facts);
  const dev = hostOf(facts, device.path);
  const fallback = (what: string) => scratchTmpfs(config, facts, `${what} ${device.path} failed`);
  return [
    {
      id: 'scratch.mkfs',
      phase: 'scratch',
      kind: 'mkfs',
      device: { path: device.path, number: device.number, sizeBytes: device.sizeBytes, partuuid: device.partuuid, label: device.label },
      argv: mkfsArgv({ fstype, label: specValue(wanted.spec, 'LABEL') ?? s.rwLabel, uuid: specValue(wanted.spec, 'UUID'), populate: master ? hostOf(facts, master) : null, device: dev }),
      timeoutSec: TIMEOUT_SEC.mkfs,
      fatal: false,
      fallback: fallback('mkfs of'),
      why: `${wanted.from}: ${deviceName(device)}; re-made at every boot${master ? ', filled from the master copy' : ''}`,
    },
    {
      id: 'scratch.mount',
      phase: 'scratch',
      kind: 'mount',
      target: s.rwMount,
      mkdir: mountPointToMake(facts, s.rwMount),
      argv: mountArgv({ fstype, options: hardened([...(fstab ? mountOptionsOf(fstab) : []), ...s.rwOptions]), source: dev, target: hostOf(facts, s.rwMount) }),
      timeoutSec: TIMEOUT_SEC.mount,
      fatal: false,
      needs: 'scratch.mkfs',
      fallback: fallback('mount of'),
      why: wanted.from,
    },
  ];
}
