import { execFileSync } from 'node:child_process';
import { closeSync, copyFileSync, mkdirSync, openSync, readSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseStart, type Parsed } from '../../init/upgrade/fw-file';
import { bootOnNbd, checkedSh } from './nbd-guest';
import type { Recording } from './record';
import { REQUESTS, WRITES } from './record';
import { saveRequests } from './request-log';
import { SectorDisk } from './sector-disk';
import type { System } from './systems';

// The recording of the two-slot router (roroot-ab): power-on on slot A,
// login, `roroot upgrade` of the update from a read-only media disk (slot
// B written, read back, its trial armed), a reboot in the same QEMU (GRUB
// counts a try down and boots B), the trial boot of B to its login, the
// commit (status: default b, no trial), a little more, and a real cut.
// The NBD log holds all of it: the upgrade scenario's cuts fall anywhere
// from `roroot upgrade` on (scenarios.ts UPGRADE_PHASES).

export interface UpgradeFacts {
  oldVersion: string; // /etc/roroot/firmware of slot A, as flashed
  newVersion: string; // of the update
  sha256: string; // of the update's image, as its header says
  size: number; // bytes
  upgradeAt: number; // request index when roroot upgrade started
  armedAt: number; // once it said the trial was armed
  rebootAt: number; // when reboot was typed
  trialLoginAt: number; // the trial boot's login prompt
  committedAt: number; // once status showed the commit
}

export type UpgradeRecording = Recording & { upgrade: UpgradeFacts };

interface Status {
  slots: { slot: 'a' | 'b'; version: string | null; booted: boolean; default: boolean }[];
  trial: { slot: string } | null;
}

// The update file's header: what the trial is armed with.
export function updateHeader(file: string): Parsed['header'] {
  const head = Buffer.alloc(Math.min(65536, statSync(file).size));
  const fd = openSync(file, 'r');
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  const p = parseStart(head);
  if (!('header' in p)) throw new Error(`${file}: not an update file`);
  return p.header;
}

// The media disk: an ext4 image holding the update as next.rorootfw.
export function mediaImage(update: string, dir: string): string {
  const files = join(dir, 'media');
  rmSync(files, { recursive: true, force: true });
  mkdirSync(files);
  copyFileSync(update, join(files, 'next.rorootfw'));
  const out = join(dir, 'media.img');
  writeFileSync(out, '');
  truncateSync(out, (Math.ceil((statSync(update).size * 1.1) / 1048576) + 16) * 1048576);
  execFileSync('mkfs.ext4', ['-q', '-F', '-d', files, out]);
  rmSync(files, { recursive: true });
  return out;
}

const COMMIT_WAIT_S = 300;
const AFTER_COMMIT_MS = 20000; // "a little after": the commit's own writes drained, the router idle

export async function recordUpgrade(system: System, update: string, dir: string, say: (line: string) => void): Promise<UpgradeRecording> {
  const header = updateHeader(update);
  const media = mediaImage(update, dir);
  const sectors = new SectorDisk(system.image);
  const { guest, disk, close } = await bootOnNbd(sectors, join(dir, WRITES), join(dir, 'nbd.sock'), null, (err) => say(`nbd: ${err.message}`), { reboots: true, mediaDisk: media });
  try {
    const loginMs = await guest.login('root', 'roroot', 400);
    const loginAt = disk.requests.length;
    say(`${system.name}: login after ${(loginMs / 1000).toFixed(1)} s, ${loginAt} requests`);
    const sh = checkedSh(guest, system.name);
    const status = async () => {
      const out = await sh('roroot upgrade --status --json');
      return JSON.parse(out.slice(out.indexOf('{'))) as Status;
    };
    await sh('echo roroot-phase: idle');
    const failedUnits = (await sh('systemctl --failed --plain --no-legend | cut -d" " -f1')).split('\n').filter((u) => u);
    const oldVersion = (await sh('cat /etc/roroot/firmware')).trim();
    // The NBD disk is the first drive: the media disk is the second.
    await sh('mount -o ro /dev/vdb /mnt');
    await sh('echo roroot-phase: upgrade');
    const upgradeAt = disk.requests.length;
    const said = await sh('roroot upgrade /mnt/next.rorootfw 2>&1', 1800);
    if (!/armed for \d+ trial boot/.test(said)) throw new Error(`${system.name}: roroot upgrade did not arm a trial:\n${said}`);
    const armedAt = disk.requests.length;
    say(`${system.name}: slot b written and armed (${armedAt - upgradeAt} requests)`);
    await sh('umount /mnt');
    await sh('echo roroot-phase: reboot');
    const rebootAt = disk.requests.length;
    guest.type('reboot');
    await guest.login('root', 'roroot', 600);
    const trialLoginAt = disk.requests.length;
    await sh('echo roroot-phase: trial');
    const deadline = Date.now() + COMMIT_WAIT_S * 1000;
    for (;;) {
      const s = await status();
      const booted = s.slots.find((x) => x.booted);
      const def = s.slots.find((x) => x.default);
      if (!s.trial && def?.slot === 'b') {
        if (booted?.slot !== 'b') throw new Error(`${system.name}: committed, yet slot ${booted?.slot} booted`);
        break;
      }
      if (!s.trial) throw new Error(`${system.name}: the trial ended without a commit: ${JSON.stringify(s)}`);
      if (Date.now() > deadline) throw new Error(`${system.name}: no commit within ${COMMIT_WAIT_S} s`);
      await new Promise((r) => setTimeout(r, 3000));
    }
    const newVersion = (await sh('cat /etc/roroot/firmware')).trim();
    if (newVersion !== header.version) throw new Error(`${system.name}: slot b says ${newVersion}, the update ${header.version}`);
    await sh('echo roroot-phase: committed');
    const committedAt = disk.requests.length;
    say(`${system.name}: ${newVersion} committed; ${committedAt} requests`);
    await new Promise((r) => setTimeout(r, AFTER_COMMIT_MS));
    const upgrade: UpgradeFacts = { oldVersion, newVersion, sha256: header.imageSha256, size: header.imageSize, upgradeAt, armedAt, rebootAt, trialLoginAt, committedAt };
    const rec: UpgradeRecording = { system: system.name, image: system.image, requests: disk.requests.length, loginAt, sentinelAt: disk.requests.length, loginMs, failedUnits, acked: 0, missing: [], nfsRestartAt: 0, upgrade };
    saveRequests(join(dir, REQUESTS), disk.requests);
    writeFileSync(join(dir, 'recording.json'), JSON.stringify(rec, null, 1) + '\n');
    return rec;
  } finally {
    close();
    sectors.close();
    writeFileSync(join(dir, 'console.log'), guest.console);
    rmSync(media, { force: true });
  }
}

export const isUpgradeRecording = (rec: Recording): rec is UpgradeRecording => 'upgrade' in rec;
