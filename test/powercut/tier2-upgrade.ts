import { join } from 'node:path';
import type { Piece } from './crash-state';
import { bootOnNbd, stopped } from './nbd-guest';
import type { UpgradeRecording } from './record-upgrade';
import { stateDisk } from './state-disk';
import type { Firmware } from './upgrade-outcome';

// Tier 2 of the upgrade scenario: a crash state booted in QEMU with its
// reboots on, so that GRUB counts tries and the trial boot's check and
// fallbacks happen as on the router, until a login prompt comes (of
// whichever slot) or the boots stop. The firmware that came up is read
// from /etc/roroot/firmware: the recording's old version (slot a as
// flashed) or the update's. Bricked: no login prompt within the time a
// full trial and its fallback take.

export interface UpgradeBoot {
  firmware: Firmware | 'bricked' | 'other';
  version: string | null; // /etc/roroot/firmware
  loginMs: number | null;
  boots: number; // GRUB's runs seen on the console
  status: string; // roroot upgrade --status --json, as it said
  lastFallback: string | null; // its reason of the last fallback
  detail: string; // for bricked: the console's end
}

// A boot that stopped for a person: no login will come without one. (A
// panic is not: panic= reboots it, and a trial's tries are for that.)
const STOPPED = /\(initramfs\) |Give root password for maintenance|You are in emergency mode/;

export async function bootUpgradeState(o: { rec: UpgradeRecording; base: string; writesBin: string; pieces: Piece[]; work: string; timeoutSec: number }): Promise<UpgradeBoot> {
  const state = stateDisk(o.base, o.writesBin, o.pieces, join(o.work, 'tier2-pieces.bin'));
  const ownWrites = join(o.work, 'tier2-writes.bin');
  const { guest, close } = await bootOnNbd(state.sectors, ownWrites, join(o.work, 'tier2.sock'), null, undefined, { reboots: true });
  const boots = () => guest.console.match(/Booting `roroot slot [ab]'/g)?.length ?? 0;
  try {
    let over = false;
    let loginMs: number;
    try {
      const login = guest.login('root', 'roroot', o.timeoutSec);
      login.catch(() => {});
      loginMs = await Promise.race([login, stopped(guest, STOPPED, () => over)]);
    } catch (err) {
      return { firmware: 'bricked', version: null, loginMs: null, boots: boots(), status: '', lastFallback: null, detail: `${(err as Error).message.split('\n')[0]}; console: ${guest.console.slice(-600).replace(/\s+/g, ' ')}` };
    } finally {
      over = true;
    }
    const version = (await guest.sh('cat /etc/roroot/firmware', 60)).out.trim();
    const status = (await guest.sh('roroot upgrade --status --json', 120)).out.trim();
    const firmware = version === o.rec.upgrade.oldVersion ? 'old' : version === o.rec.upgrade.newVersion ? 'new' : 'other';
    const json = status.slice(status.indexOf('{'));
    let lastFallback: string | null = null;
    try {
      lastFallback = (JSON.parse(json) as { lastFallback: string | null }).lastFallback;
    } catch {
      lastFallback = `status unreadable: ${status.slice(0, 200)}`;
    }
    return { firmware, version, loginMs, boots: boots(), status: json, lastFallback, detail: '' };
  } finally {
    close();
    state.close();
  }
}
