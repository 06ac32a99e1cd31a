import { closeSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { NfsServer } from '../../board/nfs-server';
import type { CrashState } from './crash-state';
import { bootOnNbd } from './nbd-guest';
import { nfsCut, type NfsCut } from './nfs-cut';
import { WRITES, type Recording } from './record';
import type { Request } from './request-log';
import type { Partition, RootVerdict } from './root-check';
import { SectorDisk } from './sector-disk';
import { rootWritesOutsideWindows, touchesPartition } from './scenarios';
import { SENTINEL_TEXT, type System } from './systems';

// Tier 2: boot a crash state as the router would after power came back,
// log in on the serial console, and look: root clean and read-only (the
// baseline's is read-write by design), scratch made again, no unit failed
// that had not failed in the recording, the user's persistent file there,
// and for an nfs state, a second live cut with every ACK on the export.

export interface Tier2Result {
  loginMs: number | null; // null: no login prompt
  problems: string[];
  nfs: NfsCut | null;
  replayWrites: number; // root writes of the journal replay at mount
}

const LOGIN_TIMEOUT_SEC = 300;

export async function bootState(system: System, rec: Recording, recDir: string, state: CrashState, verdict: RootVerdict, scenario: string, part: Partition, nfs: NfsServer, work: string): Promise<Tier2Result> {
  const recorded = openSync(join(recDir, WRITES), 'r');
  const sectors = new SectorDisk(system.image);
  const file = sectors.addFile(recorded);
  for (const p of state.pieces) sectors.place({ ...p, file });
  const { guest, disk, close } = await bootOnNbd(sectors, join(work, 'tier2-writes.bin'), join(work, 'tier2.sock'), nfs.port);
  const problems: string[] = [];
  let loginMs: number | null = null;
  let cut: NfsCut | null = null;
  let replayWrites = 0;
  try {
    try {
      loginMs = await guest.login('root', 'roroot', LOGIN_TIMEOUT_SEC);
    } catch (err) {
      problems.push(`no login: ${(err as Error).message.split('\n')[0]}; console: ${guest.console.slice(-600).replace(/\s+/g, ' ')}`);
      return { loginMs, problems, nfs: null, replayWrites };
    }
    const sh = (cmd: string) => guest.sh(cmd, 120);
    if (system.name === 'roroot') {
      const mode = (await sh('findmnt -n -o OPTIONS / | cut -d, -f1')).out.trim();
      if (mode !== 'ro') problems.push(`/ is mounted ${mode}, not ro`);
      const fsck = await sh('e2fsck -fn /dev/vda1 2>&1 | tail -3');
      if (!/\d+\/\d+ files/.test(fsck.out) || /UNEXPECTED|Fix\?|\*\*\*\*\*/.test(fsck.out)) problems.push(`e2fsck -fn /dev/vda1: ${fsck.out.trim()}`);
      const scratch = (await sh('findmnt -n -o SOURCE /var/lib/roroot/volatile')).out.trim();
      if (scratch !== '/dev/vda2') problems.push(`scratch is ${scratch || 'not mounted'}, not /dev/vda2`);
    }
    if ((await sh('touch /var/log/powercut-probe && touch /tmp/powercut-probe')).code !== 0) problems.push('/var/log or /tmp is not writable');
    const failed = (await sh('systemctl --failed --plain --no-legend | cut -d" " -f1')).out.split('\n').filter((u) => u && !rec.failedUnits.includes(u));
    if (failed.length > 0) problems.push(`failed units: ${failed.join(' ')}`);
    // The sentinel was synced at request sentinelAt: a cut after that
    // must keep it. (roroot keeps it on NFS, out of the cut's reach.)
    if (state.k >= rec.sentinelAt) {
      const sentinel = (await sh(`cat ${system.sentinel}`)).out.trim();
      if (sentinel !== SENTINEL_TEXT) problems.push(`persistent file ${system.sentinel}: "${sentinel}"`);
    }
    if (scenario === 'nfs') {
      if (system.name === 'baseline') await sh(system.setup);
      cut = await nfsCut(guest, system.records, nfs, 5, 5);
      if (cut.missing.length > 0) problems.push(`acked NFS records missing after the cut: ${cut.missing.join(' ')}`);
    }
    if (system.name === 'roroot') {
      // A cut inside a window leaves the journal to replay: the kernel does
      // it when it mounts the root, before roroot runs and writes anything
      // (its first write is the scratch mkfs). Those writes finish the
      // window's own work; a root write after that is a bug even here.
      const firstElsewhere = disk.requests.find((r) => r.op === 'write' && !touchesPartition(r, part));
      const atMount = (r: Request) => verdict === 'replay' && (!firstElsewhere || r.i < firstElsewhere.i);
      const outside = rootWritesOutsideWindows(disk.requests, part);
      replayWrites = outside.filter(atMount).length;
      const bad = outside.filter((r) => !atMount(r));
      if (bad.length > 0) problems.push(`${bad.length} writes to the root outside a window during this boot (first: request ${bad[0].i}, phase ${bad[0].phase})`);
    }
    return { loginMs, problems, nfs: cut, replayWrites };
  } finally {
    close();
    sectors.close();
    closeSync(recorded);
    rmSync(join(work, 'tier2-writes.bin'), { force: true });
  }
}

// One line for the console: how the boot went.
export function describeBoot(r: Tier2Result): string {
  const login = r.loginMs === null ? 'NO LOGIN' : `login after ${(r.loginMs / 1000).toFixed(1)} s`;
  return `${login}${r.replayWrites ? `, journal replayed at mount (${r.replayWrites} writes)` : ''}`;
}
