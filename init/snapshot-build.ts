import { readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { SNAPSHOT_BLOB, SNAPSHOT_ENTRY, SNAPSHOT_STAMP } from './config/own-paths';
import { writeAtomically } from './sys/atomic';
import { hostPath } from './sys/root-path';
import { run } from './sys/spawn';

// `roroot snapshot`: the boot stage's V8 startup snapshot, built by the
// node that will run it (the .deb's postinst, the image builder in the
// image's chroot), and the stamp /sbin/roroot-init and /usr/sbin/roroot
// check before they use the blob: a blob from another node aborts V8, so
// they start the plain bundle whenever a file of the stamp changed.
//
// The stamp is one line per file that makes this node: the binary first,
// as it is started (/usr/bin/node), then the libnode it maps (Debian's
// /usr/bin/node is 26 KB; V8 is in libnode.so.108, another package's file),
// each with its size and modification time (`stat -L -c %s:%Y`), which a
// new package changes; a line `v8 FLAGS`: the V8 flags the blob was built
// with, which the trampolines start it with; last the CPU it was built on,
// `cpu FLAGS` (this machine's, from /proc/cpuinfo) or `emulated qemu64`.
// No inode: the first stamp had one, and every image carried a stamp of
// its build tree's inodes, which roroot flash's copy onto the root
// filesystem changes: no image ever started from its snapshot.
//
// The flags are there because V8 refuses a blob built where the CPU had
// other features ("built with a different version of V8 or with different
// V8 configurations", node's exit 1: its tag hashes V8's version, its
// flags and the CPU features it found). The image's blob, built on the
// build machine, was refused by the QEMU guest's qemu64, and a stamp with
// the CPU's flags only moved the loss to a check. So every feature V8 has
// a flag for is turned off, at build and at run time: the blob's tag is
// then the same on any x86-64 CPU, whatever features it has, but one: CET
// shadow stacks, which V8 10.2 notes with no flag to turn it off, and
// which /proc/cpuinfo of the image's kernel does not show. (And Atoms:
// V8 notes a Silvermont or Airmont Atom, common in routers, unless --mcpu
// names a CPU; --mcpu=generic does, and changes nothing else on x64.) A
// blob built here is used while the CPU's flags are the same (the disk
// was not moved to another machine). An image's blob is built on a
// baseline CPU without them, QEMU's qemu64 in user-mode emulation
// (--emulator): /sbin/roroot-init tries it, runs the bundle when V8
// refuses it (a router whose CPU has them), and says in /run when it
// started (snapshot-check.sh): only then does /usr/sbin/roroot, which
// cannot try twice, use it. None of those
// features is worth a measurable time to a boot stage that runs once.
//
// Not --lite-mode, though it took the boot stage's peak RSS from 56 to
// 51.6 MiB natively: node 18 warns at every start that it disables
// --expose-wasm, and `roroot upgrade` died in it of a segmentation fault
// in QEMU, writing the slot (2026-12-01). --jitless alone (with
// --no-expose-wasm, which it implies, so node has nothing to warn of):
// nothing is compiled to machine code, and a boot stage that runs each
// function a few times gains (2026-12-02, the rwtab boot natively: 112.3
// against 117.9 ms in 21 alternating runs, peak RSS 49.9 against 54.1
// MiB; node's commands in the QEMU guest 6-9% faster); and no page is
// both writable and executable.
const CPU_FEATURES = ['sse3', 'ssse3', 'sse4-1', 'sse4-2', 'sahf', 'avx', 'avx2', 'fma3', 'bmi1', 'bmi2', 'lzcnt', 'popcnt'];
const INTERPRETER_ONLY = ['--jitless', '--no-expose-wasm'];
export const SNAPSHOT_V8_FLAGS = process.arch === 'x64' ? [...CPU_FEATURES.map((f) => `--no-enable-${f}`), '--mcpu=generic', ...INTERPRETER_ONLY] : INTERPRETER_ONLY;

export function snapshotFiles(execPath: string, maps: string): string[] {
  const libs = maps
    .split('\n')
    .map((l) => (l.includes('/') ? l.slice(l.indexOf('/')) : ''))
    .filter((p) => /\/libnode\.so[.0-9]*$/.test(p));
  return [execPath, ...new Set(libs)];
}

export function snapshotStamp(root: string, files: string[], v8Flags: string[], cpu: { cpuinfo: string } | 'emulated'): string {
  const lines = files.map((f) => {
    const st = statSync(hostPath(root, f));
    return `${f} ${st.size}:${Math.floor(st.mtimeMs / 1000)}\n`;
  });
  return lines.join('') + `v8 ${v8Flags.join(' ')}\n` + (cpu === 'emulated' ? 'emulated qemu64\n' : `cpu ${cpuFlags(cpu.cpuinfo)}\n`);
}

// The first "flags : ..." line of /proc/cpuinfo, one blank between words
// (as snapshot-check.sh reads it back).
export function cpuFlags(cpuinfo: string): string {
  const line = cpuinfo.split('\n').find((l) => /^flags\s*:/.test(l)) ?? '';
  return line.replace(/^flags\s*:/, '').trim().split(/\s+/).filter(Boolean).join(' ');
}

// emulator: a user-mode emulator (qemu-x86_64) that runs the building node
// on the baseline CPU, for an image whose router is not the build machine.
export async function buildSnapshot(root: string, say: (l: string) => void, emulator?: string): Promise<number> {
  if (root !== '/') {
    say('snapshot: only for the running system: the blob must be built by the node that runs it (run it in a chroot)');
    return 2;
  }
  const node = process.execPath;
  const tmp = `${hostPath(root, SNAPSHOT_BLOB)}.roroot-new`;
  const t0 = Date.now();
  const build = [node, ...SNAPSHOT_V8_FLAGS, '--snapshot-blob', tmp, '--build-snapshot', hostPath(root, SNAPSHOT_ENTRY)];
  const argv = emulator ? [emulator, '-cpu', 'qemu64', ...build] : build;
  const r = await run(argv[0], argv.slice(1), { timeoutSec: 300 });
  if (r.code !== 0) {
    rmSync(tmp, { force: true });
    rmSync(hostPath(root, SNAPSHOT_STAMP), { force: true });
    say(`snapshot: ${node} --build-snapshot ${SNAPSHOT_ENTRY}: exit ${r.code}: ${r.stderr.trim().split('\n').pop() ?? ''}; roroot starts from the plain bundle`);
    return 1;
  }
  renameSync(tmp, hostPath(root, SNAPSHOT_BLOB));
  writeAtomically(hostPath(root, SNAPSHOT_STAMP), snapshotStamp(root, snapshotFiles(node, readFileSync('/proc/self/maps', 'utf8')), SNAPSHOT_V8_FLAGS, emulator ? 'emulated' : { cpuinfo: readFileSync('/proc/cpuinfo', 'utf8') }));
  say(`snapshot: ${SNAPSHOT_BLOB} built by ${node}${emulator ? ` under ${emulator} -cpu qemu64` : ''} in ${Date.now() - t0} ms`);
  return 0;
}
