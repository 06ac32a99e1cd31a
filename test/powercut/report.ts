import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Cut, SystemResult } from './campaign';

// powercut-report.json (one object per system, scenario and policy),
// powercut-report.md (the tables) and powercut-report.svg (every cut on its
// run's timeline, coloured by what became of the root).

export interface ReportMeta {
  command: string;
  date: string;
  machine: string;
  seed: number;
  minutes: number;
}

export function writeReport(dir: string, meta: ReportMeta, results: SystemResult[]) {
  const json = {
    ...meta,
    systems: results.map((r) => ({ system: r.system, requests: r.requests, recording: r.recording, tier1: r.tier1, tier2: r.tier2 })),
    results: results.flatMap((r) => r.rows),
  };
  writeFileSync(join(dir, 'powercut-report.json'), JSON.stringify(json, null, 1) + '\n');
  writeFileSync(join(dir, 'powercut-report.svg'), svg(results));
  writeFileSync(join(dir, 'powercut-report.md'), markdown(meta, results));
}

function markdown(meta: ReportMeta, results: SystemResult[]): string {
  const lines = [
    '# Power-cut campaign',
    '',
    `\`${meta.command}\` on ${meta.date} (${meta.machine}), seed ${meta.seed}, ${meta.minutes.toFixed(1)} min.`,
    '',
    '![cuts on the timeline](powercut-report.svg)',
    '',
    '| system | scenario | policy | cuts | distinct states | root untouched | clean | journal replay only | **repair needed** | root writes outside a window | boots ok | boots failed | acked records | acked lost | failures |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...results.flatMap((r) => r.rows).map((w) => `| ${w.system} | ${w.scenario} | ${w.policy} | ${w.cuts} | ${w.states_checked} | ${w.root_untouched} | ${w.root_clean} | ${w.root_journal_replay_only} | **${w.root_repair_needed}** | ${w.root_writes_outside_window} | ${w.boot_to_login_ok} | ${w.boot_to_login_failed} | ${w.acked_records} | ${w.acked_records_lost} | ${w.failures.length} |`),
    '',
    '| system | requests recorded | boot to login (recording) | tier-1 states | e2fsck runs | tier-1 rate | tier-2 boots | tier-2 time per boot |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...results.map((r) => `| ${r.system} | ${r.requests} | ${(r.recording.loginMs / 1000).toFixed(1)} s | ${r.tier1.states} | ${r.tier1.fsck_runs} | ${Math.round(r.tier1.per_minute)} states/min | ${r.tier2.boots} | ${r.tier2.seconds_per_boot.toFixed(1)} s |`),
    '',
    '## Failures',
    '',
  ];
  const failures = results.flatMap((r) => r.rows.flatMap((w) => w.failures));
  if (failures.length === 0) lines.push('None.');
  for (const f of failures) {
    lines.push(`- ${f.system} ${f.scenario}/${f.policy} tier ${f.tier}: ${f.what.replace(/\|/g, '\\|')}  `, `  reproduce: \`make powercut-replay SYSTEM=${f.system} SCENARIO=${f.scenario} POLICY=${f.policy} K=${f.k} SEED=${f.seed}${f.tier === 2 ? ' BOOT=1' : ''}\``);
  }
  return lines.join('\n') + '\n';
}

const COLOUR: Record<string, string> = { untouched: '#9ccc9c', clean: '#2e7d32', replay: '#1565c0', errors: '#c62828' };
const PHASE_COLOUR: Record<string, string> = { boot: '#eeeeee', idle: '#fafafa', 'log-storm': '#fff3e0', maintenance: '#f3e5f5', 'rw-window': '#ffcc80', nfs: '#e3f2fd' };

function svg(results: SystemResult[]): string {
  const width = 1000;
  const left = 150;
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
        const title = `K=${c.k} seed=${c.seed} ${c.verdict}${c.boot ? `, boot ${c.boot}` : ''}`;
        if (c.boot) out.push(`<rect x="${(x(c.t) - 4).toFixed(1)}" y="${ly - 4}" width="8" height="8" fill="none" stroke="${c.boot === 'ok' ? '#000' : '#c62828'}" stroke-width="1.5"><title>${title}</title></rect>`);
        out.push(`<circle cx="${x(c.t).toFixed(1)}" cy="${ly}" r="2.5" fill="${COLOUR[c.verdict]}"><title>${title}</title></circle>`);
      }
    });
    y = top + height + 40;
  }
  const legend = Object.entries(COLOUR).map(([k, c], i) => `<circle cx="${left + i * 130}" cy="${y - 15}" r="4" fill="${c}"/><text x="${left + 8 + i * 130}" y="${y - 11}" font-size="11">root ${k}</text>`);
  legend.push(`<rect x="${left + 4 * 130 - 4}" y="${y - 19}" width="8" height="8" fill="none" stroke="#000"/><text x="${left + 8 + 4 * 130}" y="${y - 11}" font-size="11">booted (tier 2)</text>`);
  const phases = Object.entries(PHASE_COLOUR).map(([k, c], i) => `<rect x="${left + i * 120}" y="${y + 2}" width="10" height="10" fill="${c}" stroke="#999"/><text x="${left + 14 + i * 120}" y="${y + 11}" font-size="11">${k}</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y + 25}" font-family="sans-serif" font-size="12">\n<rect width="100%" height="100%" fill="white"/>\n${out.join('\n')}\n${legend.join('\n')}\n${phases.join('\n')}\n</svg>\n`;
}
