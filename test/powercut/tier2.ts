import { renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { NfsServer } from '../../board/nfs-server';
import type { Piece } from './crash-state';
import { bootOnNbd, stopped } from './nbd-guest';
import { nfsCut, type NfsCut } from './nfs-cut';
import type { Recording } from './record';
import type { Request } from './request-log';
import type { Partition } from './root-check';
import { stateDisk } from './state-disk';
import { rootWritesOutsideWindows, touchesPartition, type Scenario } from './scenarios';
import { SENTINEL_TEXT, type System } from './systems';

// Tier 2: boot a crash state as the router would after power came back,
// log in on the serial console, and look: root clean and read-only (the
// baseline's is read-write by design), scratch made again, no unit failed
// that had not failed in the recording, the user's persistent file there,
// and for an nfs state, a second live cut with every ACK on the export.

export interface BootInput {
  system: System;
  rec: Recording;
  base: string; // the image the state's pieces are laid on
  writesBin: string; // where the pieces' recorded data is
  pieces: Piece[];
  k: number; // the cut, in the recording the pieces come from
  recovery: boolean; // tier 1 saw a journal to replay or orphans to release
  scenario: Scenario;
  part: Partition;
  nfs: NfsServer;
  work: string;
  keep: boolean; // keep this boot's own recording, to cut it again
}

export interface Tier2Result {
  loginMs: number | null; // null: no login prompt
  problems: string[];
  nfs: NfsCut | null;
  replayWrites: number; // root writes of the kernel's recovery at mount
  // This boot as a recording: its requests, its writes, its login.
  boot: { requests: Request[]; writesBin: string; loginAt: number } | null;
}

const LOGIN_TIMEOUT_SEC = 300;
// A boot that stopped for a person (a root fsck -p refused, emergency mode)
// or died: no login will come, and waiting for one cost minutes each.
const STOPPED = /\(initramfs\) |Give root password for maintenance|Kernel panic - not syncing/;

export async function bootState(o: BootInput): Promise<Tier2Result> {
  const { system, rec, part } = o;
  const state = stateDisk(o.base, o.writesBin, o.pieces, join(o.work, 'tier2-pieces.bin'));
  const sectors = state.sectors;
  const ownWrites = join(o.work, 'tier2-writes.bin');
  const { guest, disk, close } = await bootOnNbd(sectors, ownWrites, join(o.work, 'tier2.sock'), o.nfs.port);
  const problems: string[] = [];
  let loginMs: number | null = null;
  let loginAt = 0;
  let cut: NfsCut | null = null;
  let replayWrites = 0;
  let kept = false;
  try {
    let over = false;
    try {
      const login = guest.login('root', 'roroot', LOGIN_TIMEOUT_SEC);
      login.catch(() => {}); // the boot may stop first; its end is seen below
      loginMs = await Promise.race([login, stopped(guest, STOPPED, () => over)]);
      loginAt = disk.requests.length;
    } catch (err) {
      problems.push(`no login: ${(err as Error).message.split('\n')[0]}; console: ${guest.console.slice(-600).replace(/\s+/g, ' ')}`);
      return { loginMs, problems, nfs: null, replayWrites, boot: null };
    } finally {
      over = true;
    }
    const sh = (cmd: string) => guest.sh(cmd, 120);
    if (system.roroot) {
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
    if (o.k >= rec.sentinelAt) {
      const sentinel = (await sh(`cat ${system.sentinel}`)).out.trim();
      if (sentinel !== SENTINEL_TEXT) problems.push(`persistent file ${system.sentinel}: "${sentinel}"`);
    }
    if (o.scenario === 'nfs') {
      if (!system.roroot) await sh(system.setup);
      cut = await nfsCut(guest, system.records, o.nfs, 5, 5);
      if (cut.missing.length > 0) problems.push(`acked NFS records missing after the cut: ${cut.missing.join(' ')}`);
    }
    if (system.roroot) {
      // What the kernel writes when it mounts the root (journal replay,
      // orphans) comes before roroot runs and writes anything (its first
      // write is the scratch mkfs); a root write after that is a bug even
      // here.
      const firstElsewhere = disk.requests.find((r) => r.op === 'write' && !touchesPartition(r, part));
      const atMount = (r: Request) => o.recovery && (!firstElsewhere || r.i < firstElsewhere.i);
      const outside = rootWritesOutsideWindows(disk.requests, part);
      replayWrites = outside.filter(atMount).length;
      const bad = outside.filter((r) => !atMount(r));
      if (bad.length > 0) problems.push(`${bad.length} writes to the root outside a window during this boot (first: request ${bad[0].i}, phase ${bad[0].phase})`);
    }
    kept = o.keep;
    return { loginMs, problems, nfs: cut, replayWrites, boot: kept ? { requests: disk.requests.slice(), writesBin: join(o.work, 'recut-writes.bin'), loginAt } : null };
  } finally {
    close();
    state.close();
    if (kept) renameSync(ownWrites, join(o.work, 'recut-writes.bin'));
    else rmSync(ownWrites, { force: true });
  }
}

// One line for the console: how the boot went.
export function describeBoot(r: Tier2Result): string {
  const login = r.loginMs === null ? 'NO LOGIN' : `login after ${(r.loginMs / 1000).toFixed(1)} s`;
  return `${login}${r.replayWrites ? `, the kernel's recovery at mount wrote the root ${r.replayWrites} times` : ''}`;
}
