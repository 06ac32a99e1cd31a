import { readFileSync } from 'node:fs';

// The running kernel's release (uname -r), read when it is asked for. Not
// os.release(): node 18 calls uname once, when its os module loads, and a
// V8 startup snapshot keeps that value. The boot stage started from an
// image's snapshot checked /lib/modules/<the build machine's kernel>/
// modules.dep, found none, and said nothing of modules.dep (pc-router's
// QEMU test, 2026-12-01). /proc's file first; before /proc is mounted,
// uname(2) through process.report, which asks at each call.
export function kernelRelease(): string {
  try {
    const r = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
    if (r) return r;
  } catch {
    // no /proc yet
  }
  return (process.report.getReport() as { header: { osRelease: string } }).header.osRelease;
}
