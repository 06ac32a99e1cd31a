import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import minimist from 'minimist';
import { Guest } from '../../board/guest';
import { NfsServer } from '../../board/nfs-server';
import { DEFAULT_CACHE, rootfsTarball } from '../../board/rootfs';
import { parseRwtab } from '../../init/config/rwtab';
import { LoopDisk } from '../support/loop-disk';
import { writeReport, type Results } from './report';
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

const roroot = (tree: string) => `chroot ${tree} /usr/bin/node ${ROOT_JS} boot --kmsg none --no-background`;

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

// The master copy of the reference image, read from its root partition.
function referenceMaster(work: string): { dir: string; files: number; bytes: number } {
  const image = join(repo, 'build/image/qemu-x86_64.img');
  const disk = execFileSync('losetup', ['--find', '--show', '--partscan', '--read-only', image], { encoding: 'utf8' }).trim();
  const dir = join(work, 'reference-master');
  try {
    sh('partx', ['-u', disk]);
    sh('unshare', ['--mount', '--propagation', 'private', 'sh', '-euc', `m=$(mktemp -d); mount -o ro ${disk}p1 $m; cp -a $m/var/lib/roroot/volatile.ini ${dir}; umount $m`]);
  } finally {
    sh('losetup', ['-d', disk]);
  }
  return { dir, ...treeSize(dir) };
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

function startup(tree: string): { bundle: Figure; bare: Figure; bareRssMiB: Figure } {
  const r = race(tree, { bundle: `chroot ${tree} /usr/bin/node ${ROOT_JS} --version`, bare: `chroot ${tree} /usr/bin/node -e 0` });
  return { bundle: figure(r.bundle.ms), bare: figure(r.bare.ms), bareRssMiB: figure(r.bare.rssKiB.map((k) => k / 1024)) };
}

// Power-on to `login:` and the boot stage's own figure, alternating the
// roroot image and the same image without roroot (board/plain-image.ts).
async function guestWorkload(work: string): Promise<Results['guest']> {
  const runs = Number(args['guest-runs']);
  const nfs = await NfsServer.start(join(work, 'nfs'));
  const login: Record<'roroot' | 'plain', number[]> = { roroot: [], plain: [] };
  const stage: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      for (const kind of ['roroot', 'plain'] as const) {
        const image = join(repo, `build/image/qemu-x86_64${kind === 'plain' ? '-plain' : ''}.img`);
        const disk = join(work, `${kind}.qcow2`);
        rmSync(disk, { force: true });
        execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', image, '-F', 'raw', disk]);
        const g = Guest.boot({ disk, format: 'qcow2', memMiB: 256, nfsPort: nfs.port });
        try {
          const ms = await g.login();
          login[kind].push(ms / 1000);
          if (kind === 'roroot') {
            const out = (await g.sh('roroot status --json')).out;
            stage.push((JSON.parse(out.slice(out.indexOf('{'))) as { lastBoot: { totalMs: number } }).lastBoot.totalMs);
          }
          say(`guest ${kind} run ${i + 1}: login after ${(ms / 1000).toFixed(1)} s`);
          await g.poweroff();
        } finally {
          g.kill();
        }
      }
    }
  } finally {
    await nfs.stop();
  }
  const roFig = figure(login.roroot);
  const plainFig = figure(login.plain);
  return { boot_stage_ms: figure(stage), login_s_roroot: roFig, login_s_plain: plainFig, login_ratio: ratio(roFig, plainFig) };
}

async function main() {
  const t0 = Date.now();
  const work = mkdtempSync(join(tmpdir(), 'roroot-bench-'));
  const disks: LoopDisk[] = [];
  try {
    const tree = join(work, 'tree');
    mkdirSync(tree);
    sh('tar', ['-C', tree, '--numeric-owner', '-xpf', rootfsTarball(DEFAULT_CACHE, say)]);
    mkdirSync(join(tree, 'usr/lib/roroot'), { recursive: true });
    copyFileSync(join(repo, 'dist/roroot.js'), join(tree, ROOT_JS.slice(1)));
    // 64 MiB scratch partitions, as the reference board's: one for the
    // rwtab race, one for seed 004's.
    const scratch = LoopDisk.create(join(work, 'scratch.img'), 66, [64]);
    disks.push(scratch);

    const rwtab = rwtabWorkload(tree, scratch);
    const reference = referenceMaster(work);
    const synthetic = join(work, 'synthetic-master');
    syntheticMaster(synthetic, 3000, 45 * 1024 * 1024);
    const seed004 = [seed004Workload(tree, scratch, reference.dir, 'reference image volatile.ini'), seed004Workload(tree, scratch, synthetic, 'synthetic')];
    const start = startup(tree);
    const results: Results = {
      machine: { cpus: cpus().length, model: cpus()[0]?.model ?? '?', kernel: execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim(), date: new Date().toISOString() },
      command: 'make bench',
      rwtab,
      seed004,
      peak_rss_mb: figure([...rwtab.rss_kib, ...seed004.flatMap((s) => s.rss_kib)].map((k) => k / 1024)),
      node_rss_mb: start.bareRssMiB,
      bundle_bytes: statSync(join(repo, 'dist/roroot.js')).size,
      startup_ms: start.bundle,
      node_ms: start.bare,
      startup_overhead_ms: difference(start.bundle, start.bare),
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
