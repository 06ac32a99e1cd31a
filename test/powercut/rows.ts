import type { Policy } from './crash-state';
import type { RootResult, RootVerdict } from './root-check';
import type { Scenario } from './scenarios';
import type { SystemName } from './systems';

// What a campaign counts, per system, scenario and policy. The verdicts
// that matter to a user count cuts outside a read-write window; the same
// names prefixed window_ count the cuts a window owns (windows.ts).

export interface Reproducer {
  system: SystemName;
  scenario: Scenario;
  policy: Policy;
  k: number;
  seed: number;
}

export interface Finding extends Reproducer {
  tier: 1 | 2;
  window: boolean;
  what: string;
  recut?: boolean; // found on the second cut of this state
}

export interface Cut extends Reproducer {
  t: number; // ms since power-on of the request the cut follows
  window: boolean;
  verdict: RootVerdict;
  changed: boolean; // the root's bytes changed where they should not have (damage())
  packages: boolean;
  boot?: 'ok' | 'failed';
  firmware?: 'old' | 'new' | 'bricked'; // the upgrade scenario's: tier 1's decision
}

type Counted = 'cuts' | 'root_untouched' | 'root_clean' | 'root_journal_replay_only' | 'root_repair_needed' | 'root_bytes_changed' | 'packages_damaged' | 'boots' | 'boots_failed' | 'second_cuts' | 'second_cuts_damaged';
type Counts = Record<Counted | `window_${Counted}`, number>;

export interface Row extends Counts {
  system: SystemName;
  scenario: Scenario;
  policy: Policy;
  states_checked: number; // distinct root contents among all the row's cuts
  root_writes_outside_window: number; // in the recording, within the scenario
  acked_records: number;
  acked_records_lost: number;
  upgrade?: UpgradeCounts; // the upgrade scenario's rows (tier1-upgrade.ts)
  findings: Finding[];
}

// Which firmware the upgrade scenario's states come up with: over every
// cut as tier 1 decides it (upgrade-outcome.ts), and over the states tier 2
// booted as QEMU showed it. bricked: neither slot reaches its login.
export interface UpgradeCounts {
  cuts_old: number;
  cuts_new: number;
  cuts_bricked: number;
  trial_image_lost: number; // cuts whose trial slot does not hold its image: its boot check falls back
  fallbacks: number; // cuts after the trial was armed that come up old all the same
  committed_image_lost: number; // cuts that come up new from a slot b that does not hold its image (e2fsck clean)
  boots_old: number;
  boots_new: number;
  bricked: number;
  boots_unlike_tier1: number; // tier 2 saw another firmware than tier 1 decided
}

export const emptyUpgradeCounts = (): UpgradeCounts => ({ cuts_old: 0, cuts_new: 0, cuts_bricked: 0, trial_image_lost: 0, fallbacks: 0, committed_image_lost: 0, boots_old: 0, boots_new: 0, bricked: 0, boots_unlike_tier1: 0 });

const COUNTED: Counted[] = ['cuts', 'root_untouched', 'root_clean', 'root_journal_replay_only', 'root_repair_needed', 'root_bytes_changed', 'packages_damaged', 'boots', 'boots_failed', 'second_cuts', 'second_cuts_damaged'];

export function emptyRow(system: SystemName, scenario: Scenario, policy: Policy): Row {
  const counts = Object.fromEntries(COUNTED.flatMap((c) => [[c, 0], [`window_${c}`, 0]])) as Counts;
  return { system, scenario, policy, ...counts, states_checked: 0, root_writes_outside_window: 0, acked_records: 0, acked_records_lost: 0, findings: [] };
}

export function count(row: Row, what: Counted, window: boolean) {
  row[window ? (`window_${what}` as const) : what]++;
}

// What a tier-1 result did that a user would mind. Changed bytes count
// where the root should be as the last window left it: not on a read-write
// root (the baseline's, by design), not inside a window (writing it is
// what a window is for), but after one whose writes the storage lost.
export function damage(r: RootResult, bytesMatter: boolean): string[] {
  const out: string[] = [];
  if (r.verdict === 'errors') out.push(`root needs repair: ${r.detail}`);
  if (r.changed && bytesMatter) out.push('root bytes changed');
  if (r.packages.length > 0) out.push(`packages damaged: ${r.packages.slice(0, 4).join('; ')}${r.packages.length > 4 ? `; and ${r.packages.length - 4} more` : ''}`);
  return out;
}

export function tally(row: Row, r: RootResult, window: boolean) {
  count(row, 'cuts', window);
  if (r.verdict === 'untouched') count(row, 'root_untouched', window);
  if (r.verdict === 'clean') count(row, 'root_clean', window);
  if (r.verdict === 'replay') count(row, 'root_journal_replay_only', window);
  if (r.verdict === 'errors') count(row, 'root_repair_needed', window);
  if (r.changed) count(row, 'root_bytes_changed', window);
  if (r.packages.length > 0) count(row, 'packages_damaged', window);
}
