import type { Config } from '../config/config';
import { CONFIG_FILES } from '../config/config';
import { IDENTITY } from '../places/identity';

// Which device specs and paths the probe must look at for this config: the
// probe asks the machine only what the planner will use.

export function fstabEntryFor(config: Config, mountpoint: string) {
  return config.fstab.find((e) => e.file === mountpoint) ?? null;
}

export function wantedDevices(config: Config): string[] {
  const s = config.settings;
  const specs: string[] = [];
  const rwFstab = fstabEntryFor(config, s.rwMount);
  if (rwFstab && rwFstab.vfstype !== 'tmpfs') specs.push(rwFstab.spec);
  if (s.rwDevice) specs.push(s.rwDevice);
  if (s.rwLabel) specs.push(`LABEL=${s.rwLabel}`);
  const stateFstab = fstabEntryFor(config, s.stateMount);
  if (stateFstab && !stateFstab.vfstype.startsWith('nfs')) specs.push(stateFstab.spec);
  if (s.stateLabel) specs.push(`LABEL=${s.stateLabel}`);
  return [...new Set(specs)];
}

export function wantedPaths(config: Config): string[] {
  const s = config.settings;
  return [
    ...new Set([
      CONFIG_FILES.mtab,
      s.rwMount,
      s.rwMaster,
      s.stateMount,
      s.remoteMount,
      s.remoteMaster,
      ...s.volatile,
      ...s.overlay,
      ...s.persistent,
      ...config.rwtab.map((e) => e.path),
      ...IDENTITY.flatMap((i) => [i.path, i.when]),
    ]),
  ];
}
