import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import minimist from 'minimist';
import { Guest } from '../../board/guest';
import { NfsServer } from '../../board/nfs-server';
import { DEFAULT_CACHE, rootfsTarball } from '../../board/rootfs';
import { parseRwtab } from '../../init/config/rwtab';
import { SNAPSHOT_V8_FLAGS } from '../../init/snapshot-build';
import { LoopDisk } from '../support/loop-disk';
import { PHASES, stepSamples, timeline, type StageRecord, type Timeline } from './guest-timeline';
import { writeReport, type PhaseRow, type Results } from './report';
import { populateRwtab } from './rwtab-tree';
import { difference, figure, ratio, type Figure } from './stats';
import { syntheticMaster } from './synthetic-master';

// `make bench`: roroot's boot stage against Fedora's shell code (the peer)
// and against the bare commands (the floor), natively on loop devices in
// private mount namespaces, then the router image in QEMU with and without
// roroot. Contenders alternate run by run, so that a slow minute of this
// machine hurts both alike. Writes bench-results.json and BENCHMARKS.md.

const args = minimist(process.argv.slice(2), { default: { runs: 9, 'guest-runs': 3 } });
const repo = resolve(__dirname, '../..'); // build/bench/main.js
const RUNS = Number(args.runs);
const say = (line: string) => process.stdout.write(`bench: ${line}\n`);
const ROOT_JS = '/usr/lib/roroot/roroot.js';
const ROOT_BLOB = '/usr/lib/roroot/roroot.blob';

// One timed command in a fresh private mount namespace over the tree, with
// /proc, /sys and /dev as the boot stage finds them. Only the command is
// timed; the namespace set-up is not. Returns ms and the peak RSS in KiB of
// the largest process it ran (GNU time's %M, node's own for roroot).
function timed(tree: string, command: string): { ms: number; rssKiB: number } {
  const script = `mount --rbind /dev ${tree}/dev; mount -t proc proc ${tree}/proc; mount -t sysfs sysfs ${tree}/sys
s=$(date +%s%N)
/usr/bin/time -o /tmp/.bench-rss.$$ -f %M ${command} >/dev/null 2>/tmp/.bench-err.$$ || { cat /tmp/.bench-err.$$ >&2; exit 1; }
e=$(date +%s%N)
echo "BENCH $(( (e - s) / 1000 )) $(cat /tmp/.bench-rss.$$)"; rm -f /tmp/.bench-rss.$$ /tmp/.bench-err.$$`;
  // A clean environment: what the boot stage has, not this shell's.
  const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-euc', script], { encoding: 'utf8', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
  const m = /BENCH (\d+) (\d+)/.exec(r.stdout);
  if (r.status !== 0 || !m) throw new Error(`${command}: exit ${r.status}\n${r.stderr}`);
  return { ms: Number(m[1]) / 1000, rssKiB: Number(m[2]) };
}

// Alternating runs of each contender (one warm-up each, not counted).
function race(tree: string, contenders: Record<string, string>, before?: () => void): Record<string, { ms: number[]; rssKiB: number[] }> {
  const out: Record<string, { ms: number[]; rssKiB: number[] }> = {};
  for (const name of Object.keys(contenders)) out[name] = { ms: [], rssKiB: [] };
  for (let i = -1; i < RUNS; i++) {
    for (const [name, command] of Object.entries(contenders)) {
      before?.();
      const r = timed(tree, command);
      if (i < 0) continue;
      out[name].ms.push(r.ms);
      out[name].rssKiB.push(r.rssKiB);
    }
  }
  return out;
}

function sh(command: string, argv: string[]) {
  execFileSync(command, argv, { stdio: ['ignore', 'ignore', 'inherit'] });
}

// The boot stage as /sbin/roroot-init starts it on a router whose snapshot
// matches its node (built in the tree by \`roroot snapshot\`, installTree):
// from the startup snapshot. Until 2026-12 the bench ran the plain bundle,
// which no router with a working snapshot runs. With the V8 flags it was
// built with (init/snapshot-build.ts).
const roroot = (tree: string) => `chroot ${tree} /usr/bin/node ${SNAPSHOT_V8_FLAGS.join(' ')} --snapshot-blob ${ROOT_BLOB} -- boot --kmsg none --no-background`;

// roroot as the .deb lays it out, and its startup snapshot built by the
// tree's own node, as the package's postinst does.
function installTree(tree: string) {
  mkdirSync(join(tree, 'usr/lib/roroot'), { recursive: true });
  copyFileSync(join(repo, 'dist/roroot.js'), join(tree, ROOT_JS.slice(1)));
  copyFileSync(join(repo, 'dist/roroot-snapshot.js'), join(tree, 'usr/lib/roroot/roroot-snapshot.js'));
  copyFileSync(join(repo, 'patches/snapshot-check.sh'), join(tree, 'usr/lib/roroot/snapshot-check.sh'));
  copyFileSync(join(repo, 'pkg/debian/roroot.sh'), join(tree, 'usr/sbin/roroot'));
  chmodSync(join(tree, 'usr/sbin/roroot'), 0o755);
  buildSnapshot(tree);
}

// Built again once a workload's config is in the tree: the package is
// installed on a router that has its config, and the snapshot's build plans
// that config's boot to compile it (init/snapshot-warm.ts).
function buildSnapshot(tree: string) {
  execFileSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-euc', `mount -t proc proc ${tree}/proc; chroot ${tree} /usr/sbin/roroot snapshot`], { stdio: ['ignore', 'ignore', 'inherit'], env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
}

function rwtabWorkload(tree: string, scratch: LoopDisk): Results['rwtab'] {
  const rwtab = readFileSync(join(repo, '../shared/peers/fedora-rwtab'), 'utf8');
  writeFileSync(join(tree, 'etc/rwtab'), rwtab);
  // Fedora ships /etc/rwtab.d; without a file there, the peer's loop ends
  // on a failed [ -f /etc/rwtab.d/* ] and exits 1.
  mkdirSync(join(tree, 'etc/rwtab.d'), { recursive: true });
  writeFileSync(join(tree, 'etc/rwtab.d/local'), '');
  const made = populateRwtab(tree, parseRwtab('/etc/rwtab', rwtab).entries);
  copyFileSync(join(repo, '../shared/peers/fedora-readonly-root.sh'), join(tree, 'fedora-readonly-root.sh'));
  mkdirSync(join(tree, 'etc/sysconfig'), { recursive: true });
  // Fedora's stock file (test/fixtures), switched on as an admin would.
  writeFileSync(join(tree, 'etc/sysconfig/readonly-root'), readFileSync(join(repo, 'test/fixtures/fedora-readonly-root'), 'utf8').replace(/^READONLY=no$/m, 'READONLY=yes'));
  rmSync(join(tree, 'etc/roroot.conf'), { force: true });
  sh('mkfs.ext4', ['-q', '-F', '-L', 'stateless-rw', scratch.partition(1)]);
  buildSnapshot(tree);
  say(`rwtab: ${parseRwtab('/etc/rwtab', rwtab).entries.length} entries, ${made.files} files and ${made.dirs} directories added; scratch ${scratch.partition(1)} (LABEL=stateless-rw)`);
  const r = race(tree, { roroot: roroot(tree), peer: `env PEER_FORCE=1 chroot ${tree} /bin/sh /fedora-readonly-root.sh` });
  const roFig = figure(r.roroot.ms);
  const peerFig = figure(r.peer.ms);
  say(`rwtab: roroot ${roFig.median} ms, peer ${peerFig.median} ms`);
  rmSync(join(tree, 'etc/rwtab'));
  rmSync(join(tree, 'etc/rwtab.d'), { recursive: true });
  rmSync(join(tree, 'etc/sysconfig/readonly-root'));
  return { roroot_ms: roFig, peer_ms: peerFig, ratio: ratio(roFig, peerFig), rss_kib: r.roroot.rssKiB };
}

// The reference image's root partition: its master copy, and its used
// space two ways: every block the filesystem has in use (files,
// directories, inode tables, journal: what the root needs of its
// partition, counted as the issue's 839 MiB was) and what df shows (the
// files and directories alone).
function referenceImage(work: string): { master: { dir: string; files: number; bytes: number }; usedMiB: number; dfUsedMiB: number } {
  const image = join(repo, 'build/image/qemu-x86_64.img');
  const disk = execFileSync('losetup', ['--find', '--show', '--partscan', '--read-only', image], { encoding: 'utf8' }).trim();
  const dir = join(work, 'reference-master');
  try {
    sh('partx', ['-u', disk]);
    const df = execFileSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-euc', `m=$(mktemp -d); mount -o ro ${disk}p1 $m; cp -a $m/var/lib/roroot/volatile.ini ${dir}; df -B1 --output=used $m | tail -1; umount $m`], { encoding: 'utf8' });
    const sb = execFileSync('dumpe2fs', ['-h', `${disk}p1`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)$`, 'm').exec(sb)?.[1] ?? NaN);
    const mib = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;
    return { master: { dir, ...treeSize(dir) }, usedMiB: mib((field('Block count') - field('Free blocks')) * field('Block size')), dfUsedMiB: mib(Number(df.trim())) };
  } finally {
    sh('losetup', ['-d', disk]);
  }
}

function treeSize(dir: string): { files: number; bytes: number } {
  const files = Number(execFileSync('sh', ['-c', `find '${dir}' | wc -l`], { encoding: 'utf8' }).trim());
  const bytes = Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0]);
  return { files, bytes };
}

function seed004Workload(tree: string, scratch: LoopDisk, master: string, label: string): Results['seed004'][number] {
  const dev = scratch.partition(1);
  const inTree = join(tree, 'var/lib/roroot/volatile.ini');
  rmSync(inTree, { recursive: true, force: true });
  mkdirSync(join(tree, 'var/lib/roroot'), { recursive: true });
  sh('cp', ['-a', master, inTree]);
  writeFileSync(join(tree, 'etc/roroot.conf'), `READONLY=yes\nRW_DEVICE=${dev}\nRW_FSTYPE=ext4\nSTATE_LABEL=\n`);
  const size = treeSize(inTree);
  buildSnapshot(tree);
  // The floor: what must happen at the least, the same mke2fs options
  // roroot uses (no journal, -d to fill in the same pass) and one mount.
  const mkfs = `mkfs.ext4 -q -F -m 0 -E nodiscard -O ^has_journal -L roroot-rw -d /var/lib/roroot/volatile.ini ${dev}`;
  const floor = `chroot ${tree} sh -c 'mkdir -p /var/lib/roroot/volatile && ${mkfs} && mount -n -t ext4 ${dev} /var/lib/roroot/volatile'`;
  const r = race(tree, { roroot: roroot(tree), floor });
  const roFig = figure(r.roroot.ms);
  const floorFig = figure(r.floor.ms);
  say(`seed004 ${label}: ${size.files} files, ${(size.bytes / 1e6).toFixed(1)} MB: roroot ${roFig.median} ms, floor ${floorFig.median} ms`);
  return { master: label, files: size.files, bytes: size.bytes, roroot_ms: roFig, floor_ms: floorFig, ratio: ratio(roFig, floorFig), rss_kib: r.roroot.rssKiB };
}

// `roroot --version` as a user runs it (/usr/sbin/roroot: the stamp
// checked, then the snapshot), the plain bundle, and node doing nothing.
function startup(tree: string): { command: Figure; bundle: Figure; bare: Figure; bareRssMiB: Figure } {
  const r = race(tree, { command: `chroot ${tree} /usr/sbin/roroot --version`, bundle: `chroot ${tree} /usr/bin/node ${ROOT_JS} --version`, bare: `chroot ${tree} /usr/bin/node -e 0` });
  return { command: figure(r.command.ms), bundle: figure(r.bundle.ms), bare: figure(r.bare.ms), bareRssMiB: figure(r.bare.rssKiB.map((k) => k / 1024)) };
}

// One boot of an image (a qcow2 overlay of it) to its login prompt, and
// where that boot's time went (guest-timeline.ts), from the guest's kernel
// log, its clock and, with roroot, its boot record.
async function bootTimeline(work: string, kind: 'roroot' | 'plain', nfs: NfsServer): Promise<Timeline> {
  const g = Guest.boot({ disk: overlay(work, kind), format: 'qcow2', memMiB: 256, nfsPort: nfs.port });
  try {
    const loginMs = await g.login();
    const prompt = g.started + loginMs;
    const [uptime, epochMs] = (await g.sh('cut -d" " -f1 /proc/uptime; date +%s%3N')).out.trim().split('\n').map(Number);
    const uptimeMs = uptime * 1000;
    const clock = { loginMs, uptimeAtPromptMs: uptimeMs - (Date.now() - prompt), bootEpochMs: epochMs - uptimeMs };
    // Only the landmark lines cross the serial console (all of dmesg takes seconds).
    const dmesg = (await g.sh("dmesg | grep -E 'Run /init|EXT4-fs|systemd\\[1\\]' | head -n 8")).out;
    let record: StageRecord | null = null;
    if (kind === 'roroot') {
      const out = (await g.sh('roroot status --json')).out;
      record = (JSON.parse(out.slice(out.indexOf('{'))) as { lastBoot: StageRecord }).lastBoot;
    }
    await g.poweroff();
    return timeline(dmesg, clock, record);
  } finally {
    g.kill();
  }
}

function overlay(work: string, kind: 'roroot' | 'plain'): string {
  const image = join(repo, `build/image/qemu-x86_64${kind === 'plain' ? '-plain' : ''}.img`);
  const disk = join(work, `${kind}.qcow2`);
  rmSync(disk, { force: true });
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', image, '-F', 'raw', disk]);
  return disk;
}

// Does the roroot image reach its login prompt in this much guest RAM? A
// kernel panic (out of memory in the initramfs) ends the boot at once.
async function reachesLogin(work: string, nfs: NfsServer, memMiB: number): Promise<boolean> {
  const g = Guest.boot({ disk: overlay(work, 'roroot'), format: 'qcow2', memMiB, nfsPort: nfs.port });
  let tail = ''; // a chunk may end inside the message
  g.onOutput((chunk) => {
    tail = (tail + chunk).slice(-256);
    if (tail.includes('Kernel panic - not syncing')) g.kill();
  });
  try {
    await g.login();
    await g.poweroff();
    return true;
  } catch (err) {
    say(`guest ${memMiB} MiB: ${(err as Error).message.split('\n')[0]}`);
    return false;
  } finally {
    g.kill();
  }
}

// Power-on to `login:`, phase by phase, alternating the roroot image and
// the same image without roroot (board/plain-image.ts); then the smallest
// guest RAM that still reaches login, in 16 MiB steps down from the 256 MiB
// those boots had, to the first that does not.
async function guestWorkload(work: string): Promise<Results['guest']> {
  const runs = Number(args['guest-runs']);
  const nfs = await NfsServer.start(join(work, 'nfs'));
  const boots: Record<'roroot' | 'plain', Timeline[]> = { roroot: [], plain: [] };
  const memory: { mib: number; login: boolean }[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      for (const kind of ['roroot', 'plain'] as const) {
        const tl = await bootTimeline(work, kind, nfs);
        boots[kind].push(tl);
        say(`guest ${kind} run ${i + 1}: login after ${(tl.loginMs / 1000).toFixed(1)} s${tl.stage ? `, boot stage ${Math.round(tl.stage.totalMs)} ms` : ''}`);
      }
    }
    for (let mib = 240; mib >= 16; mib -= 16) {
      const login = await reachesLogin(work, nfs, mib);
      memory.push({ mib, login });
      say(`guest ${mib} MiB: ${login ? 'login' : 'no login'}`);
      if (!login) break;
    }
  } finally {
    await nfs.stop();
  }
  const seconds = (tls: Timeline[]) => figure(tls.map((t) => t.loginMs / 1000));
  const roFig = seconds(boots.roroot);
  const plainFig = seconds(boots.plain);
  const stages = boots.roroot.map((t) => t.stage as StageRecord);
  return {
    boot_stage_ms: figure(stages.map((s) => s.totalMs)),
    login_s_roroot: roFig,
    login_s_plain: plainFig,
    login_ratio: ratio(roFig, plainFig),
    min_mem_mib: memory.filter((m) => m.login).pop()?.mib ?? 256,
    memory_tried: memory,
    phases: phaseFigures(boots),
    steps: stepSamples(stages).map((row) => ({ label: row.label, fromMs: figure(row.fromMs), ms: figure(row.ms) })),
  };
}

// Median per phase, both images (a phase the image has not: null).
function phaseFigures(boots: Record<'roroot' | 'plain', Timeline[]>): PhaseRow[] {
  const phase = (kind: 'roroot' | 'plain', pick: (t: Timeline) => number | null) => {
    const ms = boots[kind].map(pick).filter((v): v is number => v !== null);
    return ms.length > 0 ? figure(ms) : null;
  };
  return PHASES.map(({ name, ms }) => ({ name, roroot: phase('roroot', ms), plain: phase('plain', ms) }));
}

async function main() {
  const t0 = Date.now();
  const work = mkdtempSync(join(tmpdir(), 'roroot-bench-'));
  const disks: LoopDisk[] = [];
  try {
    const tree = join(work, 'tree');
    mkdirSync(tree);
    sh('tar', ['-C', tree, '--numeric-owner', '-xpf', rootfsTarball(DEFAULT_CACHE, say)]);
    installTree(tree);
    // 64 MiB scratch partitions, as the reference board's: one for the
    // rwtab race, one for seed 004's.
    const scratch = LoopDisk.create(join(work, 'scratch.img'), 66, [64]);
    disks.push(scratch);

    const rwtab = rwtabWorkload(tree, scratch);
    const reference = referenceImage(work);
    const synthetic = join(work, 'synthetic-master');
    syntheticMaster(synthetic, 3000, 45 * 1024 * 1024);
    const seed004 = [seed004Workload(tree, scratch, reference.master.dir, 'reference image volatile.ini'), seed004Workload(tree, scratch, synthetic, 'synthetic')];
    const start = startup(tree);
    const results: Results = {
      machine: { cpus: cpus().length, model: cpus()[0]?.model ?? '?', kernel: execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim(), date: new Date().toISOString() },
      command: 'make bench',
      rwtab,
      seed004,
      peak_rss_mb: figure([...rwtab.rss_kib, ...seed004.flatMap((s) => s.rss_kib)].map((k) => k / 1024)),
      node_rss_mb: start.bareRssMiB,
      bundle_bytes: statSync(join(repo, 'dist/roroot.js')).size,
      startup_ms: start.command,
      bundle_startup_ms: start.bundle,
      node_ms: start.bare,
      startup_overhead_ms: difference(start.bundle, start.bare),
      image: { used_mib: reference.usedMiB, df_used_mib: reference.dfUsedMiB },
      guest: args['guest-runs'] > 0 ? await guestWorkload(work) : null,
      seconds: 0,
    };
    results.seconds = Math.round((Date.now() - t0) / 1000);
    writeReport(repo, results);
    say(`done in ${results.seconds} s: bench-results.json, BENCHMARKS.md`);
  } finally {
    for (const d of disks) d.detach();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`bench: ${(err as Error).stack}\n`);
  process.exit(1);
});
