import { existsSync, writeFileSync } from 'node:fs';
import type { Config } from '../config/config';
import { readRecord } from '../record';
import type { Logger } from '../sys/log';
import { hostPath } from '../sys/root-path';
import { run } from '../sys/spawn';
import type { BootRecord, Slot } from './boot-state';
import { findDisk, hashDevice, readState, writeRecord, writeTries } from './slot-io';

// A slot on trial (armed by roroot upgrade) proves itself or gives way.
//
// GRUB counts a try down before it boots the trial slot. The trial slot's
// boot stage first checks, before anything else, that the slot holds the
// image it was armed with, as the disk returns it after the reboot: a drive
// that acknowledged flushes it never did loses writes, and such a slot is
// never committed. Once the router is up (multi-user reached, the boot
// stage not degraded, the board's health command passing), `roroot upgrade
// --commit` makes it the default in one record write. An unhealthy trial
// reboots, which spends a try; when they are spent GRUB boots the default,
// whose boot stage closes the trial and says why.
//
// Benign cuts: a cut during a trial boot spends one try and nothing else,
// so UPGRADE_TRIES (3 by default) tolerates two; the commit comes as soon as
// the router is up, which keeps the time a cut can cost a try short. When
// the tries were spent by cuts, `roroot upgrade --retry` arms the same
// image again (after checking the slot still holds it).

// A reboot at once (the trial's record is on the disk, nothing else
// matters): sysrq b, which needs neither init nor a shell; reboot -f where
// the kernel has no sysrq. Under --root (a test, a preview) only said: it
// is not this machine's trial.
async function rebootNow(root: string, log: Logger) {
  if (root !== '/') {
    log.warn(`upgrade: under --root ${root}: no reboot`);
    return;
  }
  await run('sync', [], { timeoutSec: 30 });
  try {
    writeFileSync('/proc/sysrq-trigger', 'b');
  } catch {
    await run('reboot', ['-f'], { timeoutSec: 30 });
  }
}

// Boot, before anything else. A reason when the boot is degraded by it.
export async function trialAtBoot(root: string, config: Config, log: Logger): Promise<string | null> {
  if (!config.cmdline.slot) return null;
  const disk = await findDisk(config);
  const state = await readState(disk);
  const r = state.record;
  const booted = config.cmdline.slot;
  if (!r || r.trial === 'none') return null;
  if (r.trial === booted) {
    log.notice(`upgrade: slot ${booted} (${r.version}) on trial, ${state.tries} boot(s) left after this one`);
    const held = await hashDevice(disk.slots[booted], r.size);
    if (held === r.sha256) return null;
    const note = `slot ${booted} (${r.version}) does not hold the image it was armed with (sha256 ${held}, not ${r.sha256}): the disk lost writes; not committed`;
    writeTries(disk, state, 0);
    writeRecord(disk, state, { ...r, trial: 'none', note });
    log.error(`upgrade: ${note}; rebooting into slot ${r.default}`);
    await rebootNow(root, log);
    return note;
  }
  if (state.tries > 0) return null; // booted the default by hand (GRUB menu): the trial waits
  const note = r.note || `slot ${r.trial} (${r.version}) did not come up healthy in ${config.settings.upgradeTries} boot(s): a panic, a hang or a cut each time`;
  writeRecord(disk, state, { ...r, trial: 'none', note });
  log.error(`upgrade: fallback to slot ${booted}: ${note} (roroot upgrade --retry arms it again)`);
  return `upgrade: fallback to slot ${booted}: ${note}`;
}

// The commit unit, once the router is up on a slot on trial.
export async function commit(root: string, config: Config, log: Logger): Promise<number> {
  const disk = await findDisk(config);
  const state = await readState(disk);
  const r = state.record;
  const booted = config.cmdline.slot as Slot;
  if (!r || r.trial !== booted) return 0;
  const boot = readRecord(root, config.settings.rwMount, 'boot');
  let unhealthy: string | null = !boot ? 'no boot record' : boot.degraded ? `the boot was degraded: ${boot.reasons.map((x) => x.text).join('; ')}` : null;
  const health = config.settings.upgradeHealth && hostPath(root, config.settings.upgradeHealth);
  if (!unhealthy && health) {
    if (!existsSync(health)) unhealthy = `the health command ${health} is missing`;
    else {
      const h = await run(health, [], { timeoutSec: 120 }).catch((err: Error) => ({ code: -1, stderr: err.message, stdout: '' }));
      if (h.code !== 0) unhealthy = `the health command ${health} failed (exit ${h.code}${h.stderr.trim() ? `: ${h.stderr.trim().split('\n').pop()}` : ''})`;
    }
  }
  if (unhealthy) {
    const note = `slot ${booted} (${r.version}): ${unhealthy}`;
    writeRecord(disk, state, { ...r, note });
    log.error(`upgrade: ${note}; rebooting (${state.tries} trial boot(s) left, then slot ${r.default})`);
    await rebootNow(root, log);
    return 1;
  }
  for (const w of commitWrites(r, booted)) {
    if ('tries' in w) writeTries(disk, state, w.tries);
    else writeRecord(disk, state, w.record);
  }
  log.notice(`upgrade: slot ${booted} (${r.version}) committed: the default from now on`);
  return 0;
}

// The commit's writes, in their order (a cut can fall between them). The
// record first: once it is on the disk the slot is the default and no
// trial is armed, whatever the tries say (GRUB reads them only for a
// trial). Tries first, as it was, left a cut between the two writes a
// trial with no tries: GRUB booted the old slot, which called the healthy
// one a failure (the power-cut campaign's upgrade scenario: 23 of 160
// prefix and torn cuts).
export function commitWrites(r: BootRecord, booted: Slot): ({ record: Omit<BootRecord, 'seq'> } | { tries: number })[] {
  return [{ record: { default: booted, trial: 'none', sha256: r.sha256, size: r.size, version: r.version, note: '' } }, { tries: 0 }];
}
