import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Run, CampaignOptions, SystemResult } from './campaign';
import { phaseSpans } from './phases';
import { crashState, type Policy } from './crash-state';
import { REQUESTS, WRITES } from './record';
import { isUpgradeRecording, recordUpgrade, type UpgradeRecording } from './record-upgrade';
import { loadRequests } from './request-log';
import type { Row } from './rows';
import { recordingDir, system as systemFor, type System } from './systems';
import { tier1Upgrade } from './tier1-upgrade';
import { bootUpgradeState } from './tier2-upgrade';

// The upgrade scenario's campaign, for the two-slot router: recorded once
// through a whole A/B upgrade (record-upgrade.ts), every cut judged on the
// host (tier1-upgrade.ts), `boots` of the states booted in QEMU with their
// reboots on (tier2-upgrade.ts), the policies by turns. A state that comes
// up with neither firmware, or with another one than tier 1 decided, is a
// finding.

// Boots of one state at most: the trial's tries (UPGRADE_TRIES=2 on
// qemu-ab) and the default's, each as long as the recording's first boot,
// and some for GRUB and the check of a 448 MiB slot.
const BOOTS_PER_STATE = 3;

export async function runUpgradeSystem(run: Run, o: CampaignOptions): Promise<SystemResult> {
  const dir = recordingDir(o.work, run.system);
  mkdirSync(dir, { recursive: true });
  const system = systemFor(run.system, { ...o.images, work: o.work });
  if (!o.images.abUpdate) throw new Error(`${run.system}: no update file given (--ab-update)`);
  const kept = o.reuseRecording ? keptRecording(dir, system) : null;
  if (o.reuseRecording && !kept) o.say(`${system.name}: no whole recording of ${system.image} in ${dir}: recording one`);
  if (kept) o.say(`${system.name}: the recording in ${dir} again (${kept.requests} requests)`);
  const rec = kept ?? (await recordOrRetry(system, o.images.abUpdate, dir, o.say));
  const requests = loadRequests(join(dir, REQUESTS));
  const t1 = await tier1Upgrade({ system, rec, requests, dir, policies: run.policies, cuts: run.cuts, seed: o.seed, storage: o.storage });
  o.say(`${system.name}: tier 1: ${t1.stats.states} states in ${t1.stats.seconds.toFixed(1)} s; ${t1.rows.map((r) => `${r.policy}: ${r.upgrade?.cuts_old} old, ${r.upgrade?.cuts_new} new, ${r.upgrade?.cuts_bricked} bricked`).join('; ')}`);

  const t2 = Date.now();
  const logins: number[] = [];
  let boots = 0;
  const taken = new Map<Policy, number>();
  const timeoutSec = Math.round((BOOTS_PER_STATE * rec.loginMs) / 1000 + 180);
  for (let b = 0; boots < run.boots && b < run.boots * run.policies.length + run.policies.length; b++) {
    const policy = run.policies[b % run.policies.length];
    const pool = t1.candidates.get(policy) ?? [];
    const c = pool[taken.get(policy) ?? 0];
    if (!c) continue;
    taken.set(policy, (taken.get(policy) ?? 0) + 1);
    const row = t1.rows.find((r) => r.policy === policy) as Row;
    const counts = row.upgrade as NonNullable<Row['upgrade']>;
    const state = crashState(requests, c.k, policy, c.seed, o.storage);
    const r = await bootUpgradeState({ rec, base: system.image, writesBin: join(dir, WRITES), pieces: state.pieces, work: dir, timeoutSec });
    boots++;
    if (r.loginMs !== null) logins.push(r.loginMs);
    row.boots++;
    if (r.firmware === 'old') counts.boots_old++;
    else if (r.firmware === 'new') counts.boots_new++;
    else counts.bricked++;
    const expected = c.firmware ?? 'bricked';
    const problems: string[] = [];
    if (r.firmware === 'bricked') problems.push(`bricked: no login within ${timeoutSec} s: ${r.detail}`);
    if (r.firmware === 'other') problems.push(`came up with firmware "${r.version}", neither ${rec.upgrade.oldVersion} nor ${rec.upgrade.newVersion}`);
    if (r.firmware !== expected) {
      counts.boots_unlike_tier1++;
      problems.push(`came up ${r.firmware}, tier 1 decided ${expected} (${c.path})`);
    }
    if (problems.length > 0) row.boots_failed++;
    for (const what of problems) row.findings.push({ system: system.name, scenario: 'upgrade', policy, k: c.k, seed: c.seed, tier: 2, window: false, what });
    const cut = t1.cuts.find((x) => x.policy === policy && x.k === c.k && x.seed === c.seed);
    if (cut) cut.boot = problems.length > 0 ? 'failed' : 'ok';
    o.say(`${system.name}: tier 2: upgrade/${policy} K=${c.k} seed=${c.seed} (tier 1: ${expected}, ${c.path}): ${r.firmware}${r.version ? ` (${r.version})` : ''}${r.loginMs !== null ? `, login after ${(r.loginMs / 1000).toFixed(1)} s, ${r.boots} boot(s)` : ''}${r.lastFallback ? `; status: "${r.lastFallback}"` : ''}${problems.length ? `; ${problems.join('; ')}` : ''}`);
  }
  return {
    system: system.name,
    image: system.image,
    recording: rec,
    requests: requests.length,
    tier1: t1.stats,
    tier2: { boots, second_cuts: 0, seconds_per_boot: boots ? (Date.now() - t2) / 1000 / boots : 0, login_s: logins.map((l) => l / 1000) },
    phases: phaseSpans(requests),
    cuts: t1.cuts,
    rows: t1.rows,
  };
}

// A recording left by an earlier campaign of the same image, whole.
function keptRecording(dir: string, system: System): UpgradeRecording | null {
  const file = join(dir, 'recording.json');
  if (![file, join(dir, REQUESTS), join(dir, WRITES)].every(existsSync)) return null;
  const rec = JSON.parse(readFileSync(file, 'utf8')) as UpgradeRecording;
  if (!isUpgradeRecording(rec) || rec.image !== system.image || statSync(file).mtimeMs < statSync(system.image).mtimeMs) return null;
  // A recording begun since (and cut short: it makes writes.bin anew)
  // leaves this one's requests pointing past or into other data.
  const requests = loadRequests(join(dir, REQUESTS));
  const end = Math.max(0, ...requests.filter((r) => r.op === 'write').map((r) => (r.at as number) + r.length));
  if (requests.length !== rec.requests || statSync(join(dir, WRITES)).size < end || statSync(join(dir, WRITES)).mtimeMs > statSync(file).mtimeMs + 60000) return null;
  return rec;
}

async function recordOrRetry(system: System, update: string, dir: string, say: (line: string) => void): Promise<UpgradeRecording> {
  try {
    return await recordUpgrade(system, update, dir, say);
  } catch (err) {
    say(`${system.name}: recording failed, once more: ${(err as Error).message.split('\n')[0]}`);
    return recordUpgrade(system, update, dir, say);
  }
}
