import type { Config } from '../config/config';
import { CONFIG_FILES } from '../config/config';
import { fstabEntryFor } from './wanted';
import { mountAt, type BlockDevice, type Facts } from './facts';

// Which block device a spec names (`/dev/vda2`, `LABEL=x`, `UUID=`,
// `PARTUUID=`, `PARTLABEL=`), and the rule that decides whether roroot may
// format one. The scratch is re-made with mkfs at every boot, unattended:
// the one way roroot could destroy what a user stored is formatting the
// wrong device, so the rule is strict and the same everywhere:
//
//   mkfs only the device the config names (the RW_MOUNT line of fstab, or
//   RW_DEVICE) when it is there, or, when nothing is named, the one device
//   carrying RW_LABEL. Never a named device's stand-in, never one of two
//   devices with the same label, never the state's device, the root's, a
//   device that is mounted or held (an O_EXCL open fails), or a whole disk
//   that has partitions.

export function matchSpec(facts: Facts, spec: string): BlockDevice[] {
  if (spec.startsWith('/')) return facts.blockDevices.filter((d) => d.path === spec || d.aliases.includes(spec));
  const eq = spec.indexOf('=');
  const key = spec.slice(0, eq);
  const value = spec.slice(eq + 1);
  // Labels are case-sensitive; blkid prints UUIDs in lower case, admins may not.
  const field = (d: BlockDevice): string | null => ({ LABEL: d.label, UUID: d.uuid, PARTUUID: d.partuuid, PARTLABEL: d.partlabel })[key] ?? null;
  const fold = key === 'UUID' || key === 'PARTUUID';
  return facts.blockDevices.filter((d) => {
    const v = field(d);
    return v !== null && (fold ? v.toLowerCase() === value.toLowerCase() : v === value);
  });
}

// Exactly one device for a spec, or why not.
export function oneDevice(facts: Facts, spec: string): { device: BlockDevice } | { error: string } {
  const found = matchSpec(facts, spec);
  if (found.length === 1) return { device: found[0] };
  if (found.length === 0) return { error: 'no such device' };
  return { error: `found on ${found.length} devices (${found.map((d) => d.path).join(', ')}): refusing to choose` };
}

// The devices the persistent state is, or may be, found on.
export function stateDevices(config: Config, facts: Facts): BlockDevice[] {
  const s = config.settings;
  const out: BlockDevice[] = [];
  const fstab = fstabEntryFor(config, s.stateMount);
  if (fstab && !fstab.vfstype.startsWith('nfs')) out.push(...matchSpec(facts, fstab.spec));
  if (s.stateLabel) out.push(...matchSpec(facts, `LABEL=${s.stateLabel}`));
  return out;
}

// Why `device` must not be formatted, or null when it may be.
export function mkfsRefusal(config: Config, facts: Facts, device: BlockDevice): string | null {
  const root = mountAt(facts, '/');
  if (root && root.device === device.number) return 'it holds the root filesystem';
  if (stateDevices(config, facts).some((d) => d.number === device.number)) return `it is the persistent state (${stateWhy(config)})`;
  const mounted = facts.mounts.find((m) => m.device === device.number);
  if (mounted) return `it is mounted at ${mounted.target}`;
  if (!device.partition && device.partitions > 0) return `it is a whole disk with ${device.partitions} partition${device.partitions > 1 ? 's' : ''}`;
  if (device.claimed) return `it is in use (${device.claimed}: mounted, swap, or under a loop, dm, md or LUKS device)`;
  return null;
}

function stateWhy(config: Config): string {
  const fstab = fstabEntryFor(config, config.settings.stateMount);
  return [fstab && !fstab.vfstype.startsWith('nfs') ? `${CONFIG_FILES.fstab}:${fstab.line}` : null, config.settings.stateLabel ? `STATE_LABEL=${config.settings.stateLabel}` : null].filter(Boolean).join(', ');
}

// How the plan names a device: what an admin needs to tell it apart.
export function deviceName(d: BlockDevice): string {
  const parts = [d.partuuid ? `PARTUUID=${d.partuuid}` : null, d.label ? `LABEL=${d.label}` : null, `${Math.round(d.sizeBytes / 1048576)} MiB`].filter(Boolean);
  return `${d.path} (${parts.join(', ')})`;
}
