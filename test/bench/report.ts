import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { show, type Figure } from './stats';

// bench-results.json (every figure as median/min/max) and BENCHMARKS.md
// (the same as tables, with the machine and the command), both at the top
// of the repository, both rewritten by each `make bench`.

export interface Results {
  machine: { cpus: number; model: string; kernel: string; date: string };
  command: string;
  rwtab: { roroot_ms: Figure; peer_ms: Figure; ratio: Figure; rss_kib: number[] };
  seed004: { master: string; files: number; bytes: number; roroot_ms: Figure; floor_ms: Figure; ratio: Figure; rss_kib: number[] }[];
  peak_rss_mb: Figure; // MiB, as the issue names it
  node_rss_mb: Figure; // `node -e 0`: the floor of any node program
  bundle_bytes: number;
  startup_ms: Figure; // roroot --version: /usr/sbin/roroot, from the snapshot
  bundle_startup_ms: Figure; // node roroot.js --version: the plain bundle
  node_ms: Figure;
  startup_overhead_ms: Figure;
  image: { used_mib: number; df_used_mib: number }; // the default board's root filesystem
  guest: {
    boot_stage_ms: Figure;
    login_s_roroot: Figure;
    login_s_plain: Figure;
    login_ratio: Figure;
    min_mem_mib: number; // the smallest guest RAM tried that reached login
    memory_tried: { mib: number; login: boolean }[];
    phases: PhaseRow[];
    steps: { label: string; fromMs: Figure; ms: Figure }[]; // the boot stage's, in the guest: when each started in the stage, how long it took
  } | null;
  seconds: number;
}

// One phase of the guest's boot, in both images (null: the image has no such phase).
export interface PhaseRow {
  name: string;
  roroot: Figure | null;
  plain: Figure | null;
}

export function writeReport(repo: string, r: Results) {
  const ref = r.seed004[0];
  // The issue's names first (seed004 = the reference image's master copy),
  // then everything measured.
  const json = {
    'rwtab.roroot_ms': r.rwtab.roroot_ms,
    'rwtab.peer_ms': r.rwtab.peer_ms,
    'rwtab.ratio': r.rwtab.ratio,
    'seed004.roroot_ms': ref.roroot_ms,
    'seed004.floor_ms': ref.floor_ms,
    'seed004.ratio': ref.ratio,
    peak_rss_mb: r.peak_rss_mb,
    node_rss_mb: r.node_rss_mb,
    bundle_bytes: r.bundle_bytes,
    startup_overhead_ms: r.startup_overhead_ms,
    'image.used_mib': r.image.used_mib,
    ...(r.guest
      ? {
          'guest.boot_stage_ms': r.guest.boot_stage_ms,
          'guest.login_s_roroot': r.guest.login_s_roroot,
          'guest.login_s_plain': r.guest.login_s_plain,
          'guest.login_ratio': r.guest.login_ratio,
          'guest.min_mem_mib': r.guest.min_mem_mib,
        }
      : {}),
    detail: r,
  };
  writeFileSync(join(repo, 'bench-results.json'), JSON.stringify(json, null, 2) + '\n');
  writeFileSync(join(repo, 'BENCHMARKS.md'), markdown(r));
}

const target = (ok: boolean) => (ok ? 'met' : '**missed**');

function markdown(r: Results): string {
  const lines = [
    '# Benchmarks',
    '',
    `Written by \`${r.command}\` (test/bench/main.ts) on ${r.machine.date.slice(0, 10)}: ${r.machine.cpus} × ${r.machine.model}, Linux ${r.machine.kernel}; ${r.seconds} s in all.`,
    'Every figure is the median of the runs, with min–max; contenders alternate run by run in the same `make bench`, and ratios are of medians measured together.',
    'Native runs: a Debian bookworm tree (the image\'s root filesystem), each run in a fresh private mount namespace, chrooted, the scratch on a 64 MiB loop partition; the time is the whole command, node start-up included; roroot runs as the router starts it, from its startup snapshot (built in the tree by \`roroot snapshot\`).',
    '',
    '## Boot stage, natively',
    '',
    '| Workload | roroot | reference | ratio | target |',
    '| --- | --- | --- | --- | --- |',
    `| Fedora's stock rwtab, every path present (reference: the peer, fedora-readonly-root.sh) | ${show(r.rwtab.roroot_ms, ' ms')} | ${show(r.rwtab.peer_ms, ' ms')} | ${show(r.rwtab.ratio)} | ≤ 0.7: ${target(r.rwtab.ratio.median <= 0.7)} |`,
    ...r.seed004.map(
      (s) =>
        `| seed 004: mkfs + restore of ${s.master} (${s.files} files, ${(s.bytes / 1e6).toFixed(1)} MB; reference: the floor, mkfs.ext4 -d + mount) | ${show(s.roroot_ms, ' ms')} | ${show(s.floor_ms, ' ms')} | ${show(s.ratio)} | ≤ 1.5: ${target(s.ratio.median <= 1.5)} |`,
    ),
    '',
    '## Memory and start-up',
    '',
    '| Figure | Value | target |',
    '| --- | --- | --- |',
    `| Peak RSS of the boot stage (node, largest process; GNU time %M over all native runs) | ${show(r.peak_rss_mb, ' MiB')} | ≤ 50: ${target(r.peak_rss_mb.median <= 50)} |`,
    `| Peak RSS of \`node -e 0\` (the same node, nothing loaded) | ${show(r.node_rss_mb, ' MiB')} | |`,
    `| dist/roroot.js | ${r.bundle_bytes} bytes | |`,
    `| \`roroot --version\` (/usr/sbin/roroot: the stamp checked, then the startup snapshot) | ${show(r.startup_ms, ' ms')} | < \`node -e 0\`: ${target(r.startup_ms.median < r.node_ms.median)} |`,
    `| \`node roroot.js --version\` (the plain bundle, where the snapshot is not this node's) | ${show(r.bundle_startup_ms, ' ms')} | |`,
    `| \`node -e 0\` | ${show(r.node_ms, ' ms')} | |`,
    `| start-up overhead of \`roroot --version\` over \`node -e 0\` | ${show(r.startup_overhead_ms, ' ms')} | |`,
    '',
    "## The default board's image",
    '',
    '| Figure | Value | target |',
    '| --- | --- | --- |',
    `| root filesystem: blocks in use (files, directories, inode tables, journal; \`dumpe2fs -h\`) | ${r.image.used_mib} MiB | ≤ 350: ${target(r.image.used_mib <= 350)} |`,
    `| root filesystem: used as \`df\` shows it (files and directories) | ${r.image.df_used_mib} MiB | |`,
    '',
  ];
  if (r.guest) {
    lines.push(
      '## In the QEMU guest (TCG, 256 MiB)',
      '',
      '| Figure | roroot image | same image without roroot | ratio | target |',
      '| --- | --- | --- | --- | --- |',
      `| power-on to \`login:\` | ${show(r.guest.login_s_roroot, ' s')} | ${show(r.guest.login_s_plain, ' s')} | ${show(r.guest.login_ratio)} | ≤ 1.05: ${target(r.guest.login_ratio.median <= 1.05)} |`,
      `| boot stage (its own log, \`roroot status\`) | ${show(r.guest.boot_stage_ms, ' ms')} | | | |`,
      `| smallest guest RAM that reaches \`login:\` and logs in (16 MiB steps down from 256; tried: ${r.guest.memory_tried.map((m) => `${m.mib}${m.login ? '' : ' ✗'}`).join(', ')}) | ${r.guest.min_mem_mib} MiB | | | ≤ 128: ${target(r.guest.min_mem_mib <= 128)} |`,
      '',
      'The image without roroot is build/image/qemu-x86_64-plain.img (board/plain-image.ts): the same image with the package purged by dpkg and the root read-write.',
      '',
      '### Where the boot goes, phase by phase',
      '',
      "From each boot's own clock: the kernel log's timestamps, the boot stage's record (`roroot status --json`), the uptime at the login prompt; before the kernel, what the host saw less that uptime. Medians of the same boots as above.",
      '',
      '| Phase | roroot image | without roroot |',
      '| --- | --- | --- |',
      ...r.guest.phases.map((p) => `| ${p.name} | ${p.roroot ? show(p.roroot, ' ms') : '—'} | ${p.plain ? show(p.plain, ' ms') : '—'} |`),
      '',
      "### The boot stage's steps in the guest",
      '',
      "When each step started, in ms since the stage did, and how long it took: the network lane (NFS, and what waits for it) runs beside the local steps, from before the scratch's mkfs when it stands on nothing they make (after them when it stands on what they put in place), and the identity beside the network lane when it stands on nothing that lane mounts. The first row is the stage's time when no step ran.",
      '',
      '| Step | starts at | time |',
      '| --- | --- | --- |',
      ...r.guest.steps.map((s) => `| ${s.label.replace(/\|/g, '\\|')} | ${s.fromMs.median} ms | ${show(s.ms, ' ms')} |`),
      '',
    );
  }
  return lines.join('\n');
}
