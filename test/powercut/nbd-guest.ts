import { rmSync } from 'node:fs';
import type { Server } from 'node:net';
import { Guest } from '../../board/guest';
import { serveNbd } from './nbd-server';
import { PhaseTracker } from './phases';
import { RecordingDisk } from './request-log';
import { DataFile, type SectorDisk } from './sector-disk';

// A guest on the harness's disk: `sectors` served over NBD on `socket`,
// every request logged with the phase the console shows, each write's data
// appended to a new `dataFile`. The recording and every tier-2 boot start
// their guest this way.

export interface NbdGuest {
  guest: Guest;
  disk: RecordingDisk;
  close(): void; // the guest killed, the server and the data file closed
}

// `extra`: the two-slot board's (roroot-ab) boots reboot, so that GRUB
// counts its tries and falls back, and may have a media disk with the update.
export async function bootOnNbd(sectors: SectorDisk, dataFile: string, socket: string, nfsPort: number | null, onError?: (err: Error) => void, extra: { reboots?: boolean; mediaDisk?: string } = {}): Promise<NbdGuest> {
  const data = new DataFile(dataFile);
  const disk = new RecordingDisk(sectors, data);
  rmSync(socket, { force: true });
  const server: Server = await serveNbd(socket, disk, onError);
  const tracker = new PhaseTracker('boot', (phase) => (disk.phase = phase));
  const guest = Guest.boot({ disk: socket, format: 'nbd', memMiB: 256, nfsPort, ...extra });
  guest.onOutput((chunk) => tracker.feed(chunk));
  return {
    guest,
    disk,
    close() {
      guest.kill();
      server.close();
      data.close();
    },
  };
}

// A command in the guest that must succeed: its output, or an error that
// names the system, the command and what it printed.
export function checkedSh(guest: Guest, name: string) {
  return async (cmd: string, timeoutSec = 300): Promise<string> => {
    const r = await guest.sh(cmd, timeoutSec);
    if (r.code !== 0) throw new Error(`${name}: ${cmd}: exit ${r.code}\n${r.out}`);
    return r.out;
  };
}

// Rejects once the console shows `stop` (a boot that stopped for a person,
// or died: no login will come, and waiting for one cost minutes each),
// until `over()` says to stop looking.
export async function stopped(guest: Guest, stop: RegExp, over: () => boolean): Promise<never> {
  for (;;) {
    const m = stop.exec(guest.console);
    if (m) throw new Error(`the boot stopped: "${m[0].trim()}"`);
    if (over() || !guest.running) return new Promise<never>(() => {});
    await new Promise((r) => setTimeout(r, 500));
  }
}
