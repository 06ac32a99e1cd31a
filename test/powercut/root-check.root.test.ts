import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Piece } from './crash-state';
import { RootChecker, type Partition } from './root-check';
import { DataFile, readFully, writeFully } from './sector-disk';

// Tier 1 on a small disk image: an ext4 root (mkfs.ext4 -d, no mount) with
// one package installed by dpkg, and crash states made by changing a copy
// of it and recording what changed, as the harness's recording would.

const t = suite('tier 1 root check (root, dpkg)');
const MiB = 1024 * 1024;
const part: Partition = { start: MiB, size: 64 * MiB };
let dir: string;
let base: string;
let writes: DataFile;
let checker: RootChecker;

function build(tree: string) {
  const pkg = join(dir, 'demo');
  mkdirSync(join(pkg, 'DEBIAN'), { recursive: true });
  mkdirSync(join(pkg, 'usr/share/demo'), { recursive: true });
  mkdirSync(join(pkg, 'etc'));
  writeFileSync(join(pkg, 'usr/share/demo/file'), randomBytes(8192));
  writeFileSync(join(pkg, 'etc/demo.conf'), 'shipped\n');
  writeFileSync(join(pkg, 'DEBIAN/control'), 'Package: demo\nVersion: 1.0\nArchitecture: all\nMaintainer: roroot tests <tests@roroot.invalid>\nDescription: demo\n');
  writeFileSync(join(pkg, 'DEBIAN/conffiles'), '/etc/demo.conf\n');
  execFileSync('dpkg-deb', ['--root-owner-group', '-Zgzip', '--build', pkg, join(dir, 'demo.deb')], { stdio: 'ignore' });
  mkdirSync(join(tree, 'var/lib/dpkg/info'), { recursive: true });
  mkdirSync(join(tree, 'var/lib/dpkg/updates'));
  writeFileSync(join(tree, 'var/lib/dpkg/status'), '');
  execFileSync('dpkg', [`--root=${tree}`, '--force-bad-path', '--log=/dev/null', '-i', join(dir, 'demo.deb')], { stdio: 'ignore' });
  // Edited after install, as an image builder edits a conffile: dpkg
  // --verify reports it on the image as flashed already.
  writeFileSync(join(tree, 'etc/demo.conf'), 'edited by the image builder\n');
}

const partitionOf = (img: string) => readFileSync(img).subarray(part.start, part.start + part.size);

// A state: the base disk changed by `change` (on a copy of the root
// partition), recorded as pieces whose data is in writes.bin.
function state(change: (fsImage: string) => void): Piece[] {
  const fsImage = join(dir, 'change.img');
  writeFileSync(fsImage, partitionOf(base));
  change(fsImage);
  const before = partitionOf(base);
  const after = readFileSync(fsImage);
  const pieces: Piece[] = [];
  for (let s = 0; s < after.length / 512; s++) {
    const a = after.subarray(s * 512, (s + 1) * 512);
    if (a.equals(before.subarray(s * 512, (s + 1) * 512))) continue;
    const last = pieces[pieces.length - 1];
    const at = writes.append(a);
    if (last && last.offset + last.length === part.start + s * 512 && last.at + last.length === at) last.length += 512;
    else pieces.push({ offset: part.start + s * 512, length: 512, at });
  }
  return pieces;
}

const debugfs = (img: string, commands: string[]) => execFileSync('debugfs', ['-w', '-f', '-', img], { input: commands.join('\n') + '\n', stdio: ['pipe', 'ignore', 'ignore'] });
const blockOf = (img: string, path: string) => Number(execFileSync('debugfs', ['-R', `blocks ${path}`, img], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split(/\s+/)[0]);
const poke = (img: string, offset: number, data: Buffer) => {
  const fd = openSync(img, 'r+');
  writeFully(fd, data, offset);
  closeSync(fd);
};

t.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'roroot-rootcheck-'));
  const tree = join(dir, 'tree');
  build(tree);
  base = join(dir, 'base.img');
  execFileSync('truncate', ['-s', `${66 * MiB}`, base]);
  execFileSync('sfdisk', ['-q', base], { input: 'label: dos\n1: start=1MiB, size=64MiB, type=L\n' });
  execFileSync('mkfs.ext4', ['-q', '-F', '-b', '4096', '-O', '^64bit,^metadata_csum', '-E', `offset=${part.start}`, '-d', tree, base, '64M']);
  writes = new DataFile(join(dir, 'writes.bin'));
});
t.after(() => {
  checker?.close();
  writes.close();
  rmSync(dir, { recursive: true, force: true });
});

// The copy tier 1 lays states on holds the last state judged, as laid:
// nothing of what the journal replay or e2fsck wrote stays.
const holds = (pieces: Piece[]) => {
  const want = Buffer.from(partitionOf(base));
  const fd = openSync(join(dir, 'writes.bin'), 'r');
  for (const p of pieces) readFully(fd, want, p.offset - part.start, p.length, p.at);
  closeSync(fd);
  return readFileSync(join(dir, 'work', 'root-0.img')).equals(want) && readFileSync(join(dir, 'work', 'root-1.img')).equals(partitionOf(base));
};

t('a state is judged as if alone: a journal replay that ruins the superblock, then a clean state', async () => {
  // The replay writes garbage over block 0: e2fsck -E journal_only died
  // re-opening the filesystem and left its undo file incomplete; e2undo
  // then restored part of the copy and said nothing.
  const ruined = state((img) => {
    writeFileSync(join(dir, 'garbage'), Buffer.alloc(4096, 0xff));
    debugfs(img, ['jo', `jw -b 0 ${join(dir, 'garbage')}`, 'jc']);
  });
  const harmless = state((img) => poke(img, 15000 * 4096, randomBytes(4096))); // a free block
  mkdirSync(join(dir, 'work'));
  checker = new RootChecker(base, part, join(dir, 'writes.bin'), join(dir, 'work'));
  assert.is((await checker.check(ruined)).verdict, 'errors');
  const r = await checker.check(harmless);
  assert.is(r.verdict, 'clean', r.detail);
  assert.ok(holds(harmless), 'the copy holds the last state, nothing of the one before');
});

t('dpkg: a changed file of the package is found, the conffile edited before flashing is not', async () => {
  const damaged = state((img) => poke(img, blockOf(img, '/usr/share/demo/file') * 4096, randomBytes(4096)));
  const r = await checker.check(damaged);
  assert.is(r.verdict, 'clean', 'data only: e2fsck sees nothing');
  assert.equal(r.packages, ['dpkg --verify: ??5??????   /usr/share/demo/file']);
  assert.ok(holds(damaged));
});

t('dpkg: a package left half-installed is found by --audit; content, not writes, decides (the same state twice is judged once)', async () => {
  const status = join(dir, 'status');
  const half = state((img) => {
    const text = execFileSync('debugfs', ['-R', 'cat /var/lib/dpkg/status', img], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    writeFileSync(status, text.replace('Status: install ok installed', 'Status: install reinstreq half-installed'));
    debugfs(img, ['rm /var/lib/dpkg/status', `write ${status} /var/lib/dpkg/status`]);
  });
  const judged = checker.checked;
  const r = await checker.check(half);
  assert.ok(r.packages.some((l) => /dpkg --audit: .*demo/.test(l)), r.packages.join('\n'));
  assert.ok(r.packages.some((l) => /half.installed|reinst/i.test(l)), r.packages.join('\n'));
  assert.is((await checker.check(half.map((p) => ({ ...p })))).packages.length, r.packages.length);
  assert.is(checker.checked, judged + 1);
  assert.ok(holds(half));
});

t('root bytes changed: against the reference given, whatever the verdict', async () => {
  const harmless = state((img) => poke(img, 15001 * 4096, randomBytes(4096)));
  assert.is((await checker.check(harmless)).changed, true, 'against the root as flashed');
  assert.is((await checker.check(harmless, checker.keyOf(harmless))).changed, false, 'against itself');
  assert.is((await checker.check([])).verdict, 'untouched');
  const buf = Buffer.alloc(512);
  readFully(openSync(join(dir, 'writes.bin'), 'r'), buf, 0, 512, harmless[0].at);
  assert.ok(buf.some((b) => b !== 0));
});

t.run();
