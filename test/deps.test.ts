import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

// A fresh Debian machine has only what the Makefile installs. `make test`
// once failed there because kmod (depmod) was never installed: CI on a
// machine that already had it could not see it. This reads every program
// the code and the tests run (argv[0] of the spawns, the commands of the
// shell scripts they hand to sh and unshare, the trampoline and the
// package's scripts) and checks that each is installed by one of the
// Makefile's package lists, or is Essential or Priority required.

const t = suite('the programs make test runs are installed by the Makefile');

function repoRoot(): string {
  let d = __dirname;
  while (!existsSync(join(d, 'package.json'))) d = dirname(d);
  return d;
}
const REPO = repoRoot();

function files(dir: string, ext: RegExp): string[] {
  return readdirSync(join(REPO, dir)).flatMap((n) => {
    const p = join(dir, n);
    return statSync(join(REPO, p)).isDirectory() ? files(p, ext) : ext.test(n) ? [p] : [];
  });
}

// A call, not a method (guest.sh(...) runs in the guest), or the product's
// lazily loaded child_process (init/sys/child.ts).
const SPAWN = /(?:childProcess\(\)\.|(?<![.\w]))(?:spawn|spawnSync|execFileSync|execFile|run|runChecked|sh|ptySpawn)\(\s*['"`]([a-z][a-z0-9._+-]*)['"`]/g;
// An argv array: the program, then a flag (['mount', '-n', ...]).
const ARGV = /\b(?:argv: |return )\[\s*'([a-z][a-z0-9._+-]*)',\s*'-/g;
const SHELL_NOT_PROGRAMS = new Set(['if', 'then', 'else', 'elif', 'fi', 'for', 'in', 'do', 'done', 'while', 'until', 'case', 'esac', 'echo', 'cd', 'pwd', 'set', 'export', 'local', 'read', 'exit', 'return', 'trap', 'wait', 'shift', 'exec', 'eval', 'true', 'false', 'printf', 'test', 'command', 'break', 'continue', 'unset']);
// Run only where they exist: on a target system with GRUB, a router's reboot, in the package's
// own scripts on the system it is installed on (roroot, update-initramfs),
// and the name a test uses for a program that is not there.
const NOT_HOST = new Set(['node', 'update-grub', 'update-initramfs', 'reboot', 'roroot', 'nonexistent-command-xyz']);

// The commands of a shell script: the first word of each command, after
// assignments; functions the script defines itself are not programs.
function shellCommands(script: string): string[] {
  const own = new Set([...script.matchAll(/^\s*([a-z][a-z0-9_]*)\(\)\s*\{/gm)].map((m) => m[1]));
  const out: string[] = [];
  for (const raw of script.split('\n')) {
    // Comments, quoted strings (an awk program), ${...}, case patterns.
    const line = raw
      .replace(/(^|\s)#.*$/, '')
      .replace(/'[^']*'/g, 'Q')
      .replace(/\$\{[^}]*\}/g, 'X')
      .replace(/^\s*[^\s()]+\)/, '');
    for (const part of line.split(/;|&&|\|\||\||\$\(|\(|\)|`|\bthen\b|\bdo\b|\belse\b|\{|\}|!/)) {
      const words = part.trim().split(/\s+/).filter((w) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(w));
      const w = words[0];
      if (w && /^[a-z][a-z0-9._+-]*$/.test(w) && !SHELL_NOT_PROGRAMS.has(w) && !own.has(w)) out.push(w);
    }
  }
  return out;
}

// The scripts the tests hand to a shell on this machine: the first
// template literal of inNamespace(...) and of 'sh', '-euc' / '-c'.
function embeddedScripts(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:inNamespace\(|'sh', '-euc?', |'-c', )`/g)) {
    let i = (m.index ?? 0) + m[0].length;
    let depth = 0;
    let body = '';
    for (; i < text.length; i++) {
      const c = text[i];
      if (c === '`' && depth === 0) break;
      if (c === '$' && text[i + 1] === '{') depth++;
      else if (c === '}' && depth > 0) depth--;
      body += c;
    }
    out.push(body);
  }
  return out;
}

function programs(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const add = (name: string, where: string) => found.set(name, [...(found.get(name) ?? []), where]);
  for (const f of [...files('init', /\.ts$/), ...files('board', /\.ts$/), ...files('test', /\.ts$/)]) {
    if (f.endsWith('deps.test.ts')) continue;
    const text = readFileSync(join(REPO, f), 'utf8');
    for (const m of text.matchAll(SPAWN)) add(m[1], f);
    for (const m of text.matchAll(ARGV)) add(m[1], f);
    // mkfs.${fstype}: the scratch's mkfs, ext2 to ext4 (e2fsprogs).
    if (text.includes('`mkfs.${')) for (const fs of ['ext2', 'ext3', 'ext4']) add(`mkfs.${fs}`, f);
    // The guest's commands run in the guest; the host's run here.
    if (!f.endsWith('.vm.test.ts')) for (const script of embeddedScripts(text)) for (const c of shellCommands(script)) add(c, f);
  }
  for (const f of ['patches/roroot-init.sh', 'patches/snapshot-check.sh', 'patches/login-wrapper.sh', 'pkg/build-deb.sh', 'pkg/debian/roroot.sh', ...files('pkg/debian', /^(postinst|prerm|postrm)$/)]) {
    for (const c of shellCommands(readFileSync(join(REPO, f), 'utf8'))) add(c, f);
  }
  return found;
}

function makefilePackages(): Set<string> {
  const text = readFileSync(join(REPO, 'Makefile'), 'utf8');
  return new Set([...text.matchAll(/^[A-Z_]*PACKAGES\s*:?=\s*(.*)$/gm)].flatMap((m) => m[1].trim().split(/\s+/)));
}

// dpkg -S wants the pre-usrmerge name (/sbin/depmod) on bookworm.
function packageOf(path: string): string | null {
  const real = realpathSync(path);
  for (const p of [path, path.replace(/^\/usr/, ''), real, real.replace(/^\/usr/, '')]) {
    const r = spawnSync('dpkg', ['-S', p], { encoding: 'utf8' });
    const line = r.stdout.split('\n').find((l) => l && !l.startsWith('diversion'));
    if (r.status === 0 && line) return line.split(':')[0];
  }
  return null;
}

t('every program is installed by HOST_PACKAGES, IMAGE_PACKAGES or BENCH_PACKAGES, or Essential/required', () => {
  const listed = makefilePackages();
  const found = programs();
  assert.ok(found.has('depmod') && found.has('mkfs.ext4') && found.has('unshare') && found.has('flock'), [...found.keys()].join(' '));
  const problems: string[] = [];
  for (const [name, where] of found) {
    if (NOT_HOST.has(name)) continue;
    const which = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
    if (!which.startsWith('/')) {
      problems.push(`${name} (run by ${where[0]}): not installed here, and no Makefile list installs it`);
      continue;
    }
    const pkg = packageOf(which);
    if (!pkg) continue; // not from a package (node, npm's bins): installed by the machine or npm ci
    const q = spawnSync('dpkg-query', ['-W', '-f', '${Essential} ${Priority}', pkg], { encoding: 'utf8' }).stdout;
    if (/^yes/.test(q) || / required$/.test(q) || listed.has(pkg)) continue;
    problems.push(`${name} (run by ${where[0]}): package ${pkg} (${q.trim()}) is in no Makefile list`);
  }
  assert.equal(problems, []);
});

t('it would have caught kmod: depmod is from kmod, which is Priority important, not required', () => {
  const pkg = packageOf(spawnSync('sh', ['-c', 'command -v depmod'], { encoding: 'utf8' }).stdout.trim());
  assert.is(pkg, 'kmod');
  assert.match(spawnSync('dpkg-query', ['-W', '-f', '${Priority}', 'kmod'], { encoding: 'utf8' }).stdout, /important/);
  assert.ok(makefilePackages().has('kmod'));
});

t.run();
