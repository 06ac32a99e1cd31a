import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Storage } from './crash-state';
import type { SystemResult } from './campaign';
import type { Cut, Finding, Row } from './rows';

// powercut-report.json (one object per system, scenario and policy, the
// verdicts named as in issue 18), powercut-report.md (the tables, every
// finding with its reproducer) and powercut-report.svg (every cut on its
// run's timeline, coloured by the worst that became of the root).

export interface ReportMeta {
  command: string;
  date: string;
  machine: string;
  seed: number;
  minutes: number;
  storage: Storage;
}

const readOnly = (system: string) => system.startsWith('roroot');

// A cut that left damage a user would mind (rows.ts damage()).
export const damaged = (c: Cut) => c.verdict === 'errors' || c.packages || c.changed;

// Outside windows, per policy: n cuts, d of them damaged. With none, the
// per-cut rate is below 3/n at 95% confidence (the rule of three).
export function bounds(r: SystemResult): { policy: string; cuts: number; damaged: number; bound: string }[] {
  const policies = [...new Set(r.cuts.map((c) => c.policy))];
  return policies.map((policy) => {
    const cuts = r.cuts.filter((c) => c.policy === policy && !c.window);
    const d = cuts.filter(damaged).length;
    const bound = cuts.length === 0 ? 'no cuts' : d === 0 ? `< ${pct(3 / cuts.length)} per cut (95%)` : `${pct(d / cuts.length)} of cuts`;
    return { policy, cuts: cuts.length, damaged: d, bound };
  });
}

const pct = (x: number) => `${(x * 100).toPrecision(2)}%`;

export function writeReport(dir: string, name: string, meta: ReportMeta, results: SystemResult[]) {
  const json = {
    ...meta,
    systems: results.map((r) => ({ system: r.system, image: r.image, requests: r.requests, recording: r.recording, tier1: r.tier1, tier2: r.tier2, bounds: bounds(r) })),
    results: results.flatMap((r) => r.rows),
  };
  writeFileSync(join(dir, `${name}.json`), JSON.stringify(json, null, 1) + '\n');
  writeFileSync(join(dir, `${name}.svg`), svg(results));
  writeFileSync(join(dir, `${name}.md`), markdown(meta, results, name));
}

export function replayLine(f: Finding): string {
  return `make powercut-replay SYSTEM=${f.system} SCENARIO=${f.scenario} POLICY=${f.policy} K=${f.k} SEED=${f.seed}${f.tier === 2 ? ' BOOT=1' : ''}${f.recut ? ' RECUT=1' : ''}`;
}

const both = (w: Row, name: 'boots' | 'second_cuts', failed: 'boots_failed' | 'second_cuts_damaged', window: boolean) => (window ? `${w[`window_${name}`]} (${w[`window_${failed}`]})` : `${w[name]} (${w[failed]})`);

function markdown(meta: ReportMeta, results: SystemResult[], name: string): string {
  const rows = results.flatMap((r) => r.rows);
  const upgrades = rows.filter((w) => w.upgrade);
  const s = meta.storage;
  const lines = [
    '# Power-cut campaign',
    '',
    `\`${meta.command}\` on ${meta.date} (${meta.machine}), seed ${meta.seed}, ${meta.minutes.toFixed(1)} min.`,
    `Storage model: flush-ignored keeps the last ${s.horizonBytes / 1048576} MiB written or the last ${s.horizonMs / 1000} s at risk; erase blocks of ${s.eraseBlock / 1048576} MiB (README: the power-cut harness).`,
    '',
    `![cuts on the timeline](${name}.svg)`,
    '',
    ...(upgrades.length === 0 ? [] : upgradeTable(upgrades)),
    '## Cuts outside read-write windows',
    '',
    'Bold: what a user minds. Root bytes changed is counted for every system; on the baseline\'s read-write root it is its design, not damage.',
    '',
    '| system | scenario | policy | cuts | untouched | clean | journal replay only | **repair needed** | **root bytes changed** | **packages damaged** | boots (failed) | second cuts (damaged) | distinct roots (all cuts) | root writes outside a window | acked records (lost) |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((w) => `| ${w.system} | ${w.scenario} | ${w.policy} | ${w.cuts} | ${w.root_untouched} | ${w.root_clean} | ${w.root_journal_replay_only} | **${w.root_repair_needed}** | **${w.root_bytes_changed}** | **${w.packages_damaged}** | ${both(w, 'boots', 'boots_failed', false)} | ${both(w, 'second_cuts', 'second_cuts_damaged', false)} | ${w.states_checked} | ${w.root_writes_outside_window} | ${w.acked_records} (${w.acked_records_lost}) |`),
    '',
    '## Cuts a read-write window owns',
    '',
    'Inside a window, or after one while the storage still holds its root writes (the flush-ignored horizon, an unflushed cache): `window_*` in the JSON. Inside a window the root\'s bytes change by design; after one, they should be as it left them.',
    '',
    '| system | scenario | policy | window cuts | untouched | clean | journal replay only | repair needed | root bytes changed | packages damaged | boots (failed) | second cuts (damaged) |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.filter((w) => w.window_cuts + w.window_boots + w.window_second_cuts > 0).map((w) => `| ${w.system} | ${w.scenario} | ${w.policy} | ${w.window_cuts} | ${w.window_root_untouched} | ${w.window_root_clean} | ${w.window_root_journal_replay_only} | ${w.window_root_repair_needed} | ${w.window_root_bytes_changed} | ${w.window_packages_damaged} | ${both(w, 'boots', 'boots_failed', true)} | ${both(w, 'second_cuts', 'second_cuts_damaged', true)} |`),
    '',
    '## Per-cut bound, outside windows',
    '',
    'A cut is damaged when its root needs repair, a package is damaged, or (read-only roots) the root\'s bytes changed. 0 damaged in N gives a per-cut rate below 3/N at 95% confidence.',
    '',
    '| system | policy | cuts | damaged | per-cut rate |',
    '| --- | --- | ---: | ---: | --- |',
    ...results.flatMap((r) => bounds(r).map((b) => `| ${r.system} | ${b.policy} | ${b.cuts} | ${b.damaged} | ${b.bound} |`)),
    '',
    '| system | requests recorded | boot to login (recording) | tier-1 states | judged | dpkg runs | tier-1 rate | tier-2 boots | second cuts | tier-2 time per boot |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...results.map((r) => `| ${r.system} | ${r.requests} | ${(r.recording.loginMs / 1000).toFixed(1)} s | ${r.tier1.states} | ${r.tier1.judged} | ${r.tier1.dpkg_runs} | ${Math.round(r.tier1.per_minute)} states/min | ${r.tier2.boots} | ${r.tier2.second_cuts} | ${r.tier2.seconds_per_boot.toFixed(1)} s |`),
    '',
  ];
  const findings = rows.flatMap((w) => w.findings);
  const section = (title: string, list: Finding[]) => {
    lines.push(`## ${title}`, '');
    if (list.length === 0) lines.push('None.', '');
    for (const f of list) lines.push(`- ${f.system} ${f.scenario}/${f.policy} tier ${f.tier}: ${f.what.replace(/\|/g, '\\|')}  `, `  \`${replayLine(f)}\``);
    if (list.length > 0) lines.push('');
  };
  section('Failures: roroot outside windows', findings.filter((f) => readOnly(f.system) && !f.window && f.system !== 'roroot-misaligned'));
  section('Control: roroot on the misaligned layout', findings.filter((f) => f.system === 'roroot-misaligned'));
  section('roroot inside windows', findings.filter((f) => readOnly(f.system) && f.window && f.system !== 'roroot-misaligned'));
  section('Baseline damage', findings.filter((f) => !readOnly(f.system)));
  return lines.join('\n');
}

// The upgrade scenario's rows: which firmware its states come up with.
function upgradeTable(rows: Row[]): string[] {
  return [
    '## A/B upgrade: which firmware comes up',
    '',
    'Every cut from `roroot upgrade` to a little after the commit. Tier 1 decides each state on the host (the boot records and tries as GRUB reads them, slot a\'s root check, slot b hashed against the record); tier 2 boots some in QEMU with reboots on and reads `/etc/roroot/firmware` at the login. **Bricked**: neither slot reaches its login.',
    '',
    '| system | policy | cuts | old | new | **bricked** | trial slot lost its image | fallback after arming | new, slot b lost some of its image | boots | boots old | boots new | **boots bricked** | boots unlike tier 1 |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((w) => {
      const u = w.upgrade as NonNullable<Row['upgrade']>;
      return `| ${w.system} | ${w.policy} | ${w.cuts} | ${u.cuts_old} | ${u.cuts_new} | **${u.cuts_bricked}** | ${u.trial_image_lost} | ${u.fallbacks} | ${u.committed_image_lost} | ${w.boots} | ${u.boots_old} | ${u.boots_new} | **${u.bricked}** | ${u.boots_unlike_tier1} |`;
    }),
    '',
  ];
}

const VERDICT_COLOUR: Record<string, string> = {
  untouched: '#9ccc9c',
  clean: '#2e7d32',
  replay: '#1565c0',
  'bytes changed': '#ef6c00',
  'packages damaged': '#6a1b9a',
  'repair needed': '#c62828',
};
// An upgrade cut is coloured by the firmware it comes up with.
const FIRMWARE_COLOUR: Record<string, string> = { old: '#78909c', new: '#2e7d32', bricked: '#c62828' };
const PHASE_COLOUR: Record<string, string> = { boot: '#eeeeee', idle: '#fafafa', 'log-storm': '#fff3e0', maintenance: '#f3e5f5', 'rw-window': '#ffcc80', nfs: '#e3f2fd', upgrade: '#fff9c4', reboot: '#ffe0b2', trial: '#e8f5e9', committed: '#c8e6c9' };

function worst(c: Cut): string {
  if (c.verdict === 'errors') return 'repair needed';
  if (c.packages) return 'packages damaged';
  if (c.changed) return 'bytes changed';
  return c.verdict;
}

function svg(results: SystemResult[]): string {
  const width = 1000;
  const left = 170;
  const laneH = 14;
  const out: string[] = [];
  let y = 30;
  for (const r of results) {
    const end = Math.max(1, ...r.phases.map((p) => p.to));
    const x = (t: number) => left + (t / end) * (width - left - 10);
    const lanes = [...new Set(r.cuts.map((c) => `${c.scenario} ${c.policy}`))];
    const top = y;
    const height = lanes.length * laneH + 10;
    out.push(`<text x="4" y="${top - 8}" font-weight="bold">${r.system}: ${r.requests} requests, ${(end / 1000).toFixed(0)} s from power-on</text>`);
    for (const p of r.phases) out.push(`<rect x="${x(p.from).toFixed(1)}" y="${top}" width="${Math.max(0.5, x(p.to) - x(p.from)).toFixed(1)}" height="${height}" fill="${PHASE_COLOUR[p.phase] ?? '#ffffff'}"><title>${p.phase}</title></rect>`);
    lanes.forEach((lane, i) => {
      const ly = top + 8 + i * laneH;
      out.push(`<text x="4" y="${ly + 4}" font-size="10">${lane}</text>`);
      for (const c of r.cuts.filter((c: Cut) => `${c.scenario} ${c.policy}` === lane)) {
        const v = worst(c);
        const title = `K=${c.k} seed=${c.seed} ${c.firmware ? `comes up ${c.firmware}` : v}${c.window ? ' (window)' : ''}${c.boot ? `, boot ${c.boot}` : ''}`;
        if (c.boot) out.push(`<rect x="${(x(c.t) - 4).toFixed(1)}" y="${ly - 4}" width="8" height="8" fill="none" stroke="${c.boot === 'ok' ? '#000' : '#c62828'}" stroke-width="1.5"><title>${title}</title></rect>`);
        // A window's cut is a ring: counted apart.
        const colour = c.firmware ? FIRMWARE_COLOUR[c.firmware] : VERDICT_COLOUR[v];
        const paint = c.window ? `fill="white" stroke="${colour}" stroke-width="1.2"` : `fill="${colour}"`;
        out.push(`<circle cx="${x(c.t).toFixed(1)}" cy="${ly}" r="2.5" ${paint}><title>${title}</title></circle>`);
      }
    });
    y = top + height + 40;
  }
  const legend = Object.entries(VERDICT_COLOUR).map(([k, c], i) => `<circle cx="${left + i * 125}" cy="${y - 15}" r="4" fill="${c}"/><text x="${left + 8 + i * 125}" y="${y - 11}" font-size="11">${k === 'untouched' || k === 'clean' || k === 'replay' ? `root ${k}` : k}</text>`);
  const marks = [
    `<circle cx="${left}" cy="${y + 7}" r="4" fill="white" stroke="#333"/><text x="${left + 8}" y="${y + 11}" font-size="11">ring: a window's cut</text>`,
    `<rect x="${left + 146}" y="${y + 3}" width="8" height="8" fill="none" stroke="#000"/><text x="${left + 158}" y="${y + 11}" font-size="11">booted (tier 2)</text>`,
  ];
  if (results.some((r) => r.cuts.some((c) => c.firmware))) {
    marks.push(...Object.entries(FIRMWARE_COLOUR).map(([k, c], i) => `<circle cx="${left + 300 + i * 110}" cy="${y + 7}" r="4" fill="${c}"/><text x="${left + 308 + i * 110}" y="${y + 11}" font-size="11">${k === 'bricked' ? 'bricked' : `comes up ${k}`}</text>`));
  }
  const phases = Object.entries(PHASE_COLOUR).map(([k, c], i) => `<rect x="${left + i * 82}" y="${y + 22}" width="10" height="10" fill="${c}" stroke="#999"/><text x="${left + 14 + i * 82}" y="${y + 31}" font-size="11">${k}</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y + 45}" font-family="sans-serif" font-size="12">\n<rect width="100%" height="100%" fill="white"/>\n${out.join('\n')}\n${legend.join('\n')}\n${marks.join('\n')}\n${phases.join('\n')}\n</svg>\n`;
}
