import type { Recording } from './record';
import type { Request } from './request-log';
import type { Partition } from './root-check';
import { RW_WINDOW } from './phases';

// A scenario is a stretch of the recording where cuts are made:
//   boot       power-on to the login prompt (scratch mkfs, the modules.dep
//              window of a stale image, every unit starting)
//   log-storm  heavy writes to /tmp, /var/log and the journal
//   rw-window  a package installed (roroot rw -- dpkg -i; the baseline's
//              dpkg -i and depmod) and every read-write window of the run
//   nfs        the NFS writer, the server's restart, up to the live cut
//   upgrade    the two-slot router (roroot-ab) only: roroot upgrade writing
//              slot B and arming its trial, the reboot, the trial boot of
//              B, its commit, and a little after (record-upgrade.ts)

export const SCENARIOS = ['boot', 'log-storm', 'rw-window', 'nfs', 'upgrade'] as const;
export type Scenario = (typeof SCENARIOS)[number];

// The phases record-upgrade.ts announces from `roroot upgrade` on.
export const UPGRADE_PHASES = ['upgrade', 'reboot', 'trial', 'committed'];

// Cut points K (the state after requests 0..K-1) that fall in the scenario.
export function cutPoints(requests: Request[], rec: Recording, scenario: Scenario): number[] {
  const inside = (r: Request) => {
    if (scenario === 'boot') return r.i < rec.loginAt;
    if (scenario === 'rw-window') return r.phase === RW_WINDOW || r.phase === 'maintenance';
    if (scenario === 'upgrade') return UPGRADE_PHASES.includes(r.phase);
    return r.phase === scenario;
  };
  return requests.filter(inside).map((r) => r.i + 1);
}

export const touchesPartition = (r: Request, part: Partition) => r.op === 'write' && r.offset < part.start + part.size && r.offset + r.length > part.start;

// The invariant: the root is written only inside a declared window.
export function rootWritesOutsideWindows(requests: Request[], part: Partition): Request[] {
  return requests.filter((r) => touchesPartition(r, part) && r.phase !== RW_WINDOW);
}
