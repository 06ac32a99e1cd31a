import { rmSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { NfsServer } from '../../board/nfs-server';
import { bootOnNbd, checkedSh } from './nbd-guest';
import { nfsCut, RECORDS_ON_EXPORT } from './nfs-cut';
import { saveRequests } from './request-log';
import { SectorDisk } from './sector-disk';
import { SENTINEL_TEXT, type System } from './systems';

// One recorded run of a system: power-on, boot to login, then each scenario
// in turn, ending with a real cut (QEMU killed) while the NFS writer is
// appending. Every disk request lands in requests.jsonl with the phase the
// guest was in; crash states are cut from it afterwards, without booting.

export const TEST_DEB = 'powercut-test.deb';

export interface Recording {
  system: System['name'];
  image: string;
  requests: number;
  loginAt: number; // request index when the login prompt came
  sentinelAt: number; // request index once the sentinel was synced
  loginMs: number;
  failedUnits: string[]; // at the recording's login: not the cuts' doing
  acked: number; // the NFS writer's last ACK on the console at the cut
  missing: number[]; // acked records not on the export afterwards
  nfsRestartAt: number; // request index when the NFS server was restarted
}

export const REQUESTS = 'requests.jsonl';
export const WRITES = 'writes.bin';

export async function record(system: System, dir: string, nfs: NfsServer, say: (line: string) => void): Promise<Recording> {
  rmSync(join(nfs.exportDir, RECORDS_ON_EXPORT), { force: true });
  const sectors = new SectorDisk(system.image);
  const { guest, disk, close } = await bootOnNbd(sectors, join(dir, WRITES), join(dir, 'nbd.sock'), nfs.port, (err) => say(`nbd: ${err.message}`));
  try {
    const loginMs = await guest.login('root', 'roroot', 400);
    const loginAt = disk.requests.length;
    say(`${system.name}: login after ${(loginMs / 1000).toFixed(1)} s, ${loginAt} requests`);
    const sh = checkedSh(guest, system.name);
    await sh('echo roroot-phase: idle');
    await sh(system.setup);
    const failedUnits = (await sh('systemctl --failed --plain --no-legend | cut -d" " -f1')).split('\n').filter((u) => u);
    await sh(`mkdir -p ${posix.dirname(system.sentinel)} && echo '${SENTINEL_TEXT}' > ${system.sentinel} && sync`);
    const sentinelAt = disk.requests.length;

    await sh('echo roroot-phase: log-storm');
    // ~16 MiB through /tmp and /var/log and the journal, synced now and then.
    await sh('for i in $(seq 1 32); do head -c 262144 /dev/urandom > /tmp/storm-$i; base64 -w 100 /tmp/storm-$i | head -c 262144 >> /var/log/storm.log; logger -t storm "round $i"; [ $((i % 8)) = 0 ] && sync; done; rm -f /tmp/storm-*', 600);
    await sh('echo roroot-phase: idle');

    await sh('echo roroot-phase: maintenance');
    await sh(system.install(`${system.remote}/${TEST_DEB}`), 600);
    await sh('echo roroot-phase: idle');

    await sh('echo roroot-phase: nfs');
    let nfsRestartAt = 0;
    const { acked, missing } = await nfsCut(guest, system.records, nfs, 15, 15, () => {
      nfsRestartAt = disk.requests.length;
      say(`${system.name}: NFS server restarted`);
    });
    say(`${system.name}: cut after ACK ${acked}, ${missing.length} acked records missing; ${disk.requests.length} requests`);
    const rec: Recording = { system: system.name, image: system.image, requests: disk.requests.length, loginAt, sentinelAt, loginMs, failedUnits, acked, missing, nfsRestartAt };
    saveRequests(join(dir, REQUESTS), disk.requests);
    writeFileSync(join(dir, 'recording.json'), JSON.stringify(rec, null, 1) + '\n');
    return rec;
  } finally {
    close();
    sectors.close();
    writeFileSync(join(dir, 'console.log'), guest.console);
  }
}
