import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

// Runs every built test file (build/test/**/*.test.js), each in its own node
// process so a root or VM test's namespaces and children cannot leak into
// the next, and ends with one "N passed, N failed" line. --unit: only the
// tests that need neither root nor QEMU.

const here = __dirname;
const unitOnly = process.argv.includes('--unit');

function find(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return find(path);
    return name.endsWith('.test.js') ? [path] : [];
  });
}

const files = find(here)
  .filter((f) => !unitOnly || !/\.(root|vm)\.test\.js$/.test(f))
  .sort((a, b) => weight(a) - weight(b) || a.localeCompare(b));

// Fast feedback first: unit, then root (loop devices), then QEMU.
function weight(file: string): number {
  return file.endsWith('.vm.test.js') ? 2 : file.endsWith('.root.test.js') ? 1 : 0;
}

let passed = 0;
let failed = 0;
const broken: string[] = [];
for (const file of files) {
  const name = relative(here, file);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [file], { encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = (r.stdout ?? '') + (r.stderr ?? '');
  const total = Number(/Total:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const ok = Number(/Passed:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const bad = r.status === 0 ? total - ok : Math.max(total - ok, 1);
  passed += ok;
  failed += bad;
  process.stdout.write(`${bad > 0 ? 'FAIL' : 'ok  '} ${name} (${ok}/${total}, ${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
  if (bad > 0) {
    broken.push(name);
    process.stdout.write(out.replace(/^/gm, '    ') + '\n');
  }
}
if (broken.length > 0) process.stdout.write(`\nfailed: ${broken.join(', ')}\n`);
process.stdout.write(`${passed} passed, ${failed} failed\n`);
process.exitCode = failed > 0 || files.length === 0 ? 1 : 0;
