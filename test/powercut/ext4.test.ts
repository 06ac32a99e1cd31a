import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Corrupt, Ext4, fileType, S_IFDIR, S_IFREG, type Step } from './ext4';
import { readFully, writeFully } from './sector-disk';

// The reader against a filesystem mkfs.ext4 -d made from a tree (no mount):
// an htree directory, fast and slow symlinks (relative, absolute, through
// ..), a file of many extents (an extent tree with an index level).

const t = suite('ext4 reader');
let dir: string;
let image: string;
let fd: number;
let fs: Ext4;
const read = (offset: number, length: number) => {
  const b = Buffer.alloc(length);
  readFully(fd, b, 0, length, offset);
  return b;
};
const sparse = Buffer.alloc(4096 * 40);

t.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'roroot-ext4-'));
  const tree = join(dir, 'tree');
  mkdirSync(join(tree, 'usr/lib/many'), { recursive: true });
  for (let i = 0; i < 500; i++) writeFileSync(join(tree, 'usr/lib/many', `entry-with-a-long-name-${i}`), `${i}\n`);
  writeFileSync(join(tree, 'usr/lib/data'), 'data\n');
  symlinkSync('usr/lib', join(tree, 'lib'));
  symlinkSync(`/usr/${'x'.repeat(80)}/../lib/data`, join(tree, 'slow-link'));
  mkdirSync(join(tree, `usr/${'x'.repeat(80)}`));
  symlinkSync('../data', join(tree, 'usr/lib/many/up'));
  // Every other 4 KiB block written: one extent each, more than the inode holds.
  for (let b = 0; b < 40; b += 2) sparse.fill(b + 1, b * 4096, (b + 1) * 4096);
  const f = openSync(join(tree, 'usr/lib/sparse'), 'w');
  for (let b = 0; b < 40; b += 2) writeFully(f, sparse.subarray(b * 4096, (b + 1) * 4096), b * 4096);
  closeSync(f);
  image = join(dir, 'fs.img');
  execFileSync('mkfs.ext4', ['-q', '-F', '-b', '4096', '-O', '^64bit,^metadata_csum', '-d', tree, image, '64M']);
  fd = openSync(image, 'r');
  fs = new Ext4(read);
});
t.after(() => {
  closeSync(fd);
  rmSync(dir, { recursive: true, force: true });
});

const debugfs = (cmd: string) => execFileSync('debugfs', ['-R', cmd, image], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });

t('paths resolve to the inodes debugfs names, through relative, absolute and .. symlinks', () => {
  const ino = (p: string) => Number(/Inode: (\d+)/.exec(debugfs(`stat ${p}`))?.[1]);
  assert.is(fs.resolve('/usr/lib/data'), ino('/usr/lib/data'));
  assert.is(fs.resolve('/lib/data'), ino('/usr/lib/data'), 'lib -> usr/lib');
  assert.is(fs.resolve('/slow-link'), ino('/usr/lib/data'), 'a symlink too long for the inode');
  assert.is(fs.resolve('/lib/many/up'), ino('/usr/lib/data'));
  assert.is(fs.resolve('/usr/lib/nothing'), null);
  assert.is(fs.resolve('/usr/lib/data/below'), null);
  const steps: Step[] = [];
  fs.resolve('/lib/data', steps);
  assert.equal(steps.map((s) => ('name' in s ? s.name : 'symlink')), ['lib', 'symlink', 'usr', 'lib', 'data']);
});

t('a directory of 500 entries (an htree) lists every one; files read back whole, holes as zeroes', () => {
  const many = fs.entries(fs.resolve('/usr/lib/many') as number);
  assert.is(many.size, 503, '500 files, up, and . and ..');
  assert.is(fs.data(fs.inode(many.get('entry-with-a-long-name-321') as number)).toString(), '321\n');
  const big = fs.inode(fs.resolve('/usr/lib/sparse') as number);
  const { runs, tree } = fs.map(big);
  assert.is(runs.length, 20);
  assert.is(tree.length, 1, 'an index level');
  assert.equal(fs.data(big), sparse.subarray(0, 39 * 4096), 'up to the last block written');
  assert.is(fileType(big), S_IFREG);
  assert.is(fileType(fs.inode(2)), S_IFDIR);
});

t('a damaged directory block reads as Corrupt, not as garbage names', () => {
  const copy = join(dir, 'damaged.img');
  execFileSync('cp', [image, copy]);
  const ino = fs.resolve('/usr/lib/many') as number;
  const first = fs.map(fs.inode(ino)).runs[0].physical;
  const w = openSync(copy, 'r+');
  writeFully(w, Buffer.alloc(4096, 0xff), first * 4096);
  closeSync(w);
  const r = openSync(copy, 'r');
  const damaged = new Ext4((o, l) => {
    const b = Buffer.alloc(l);
    readFully(r, b, 0, l, o);
    return b;
  });
  assert.throws(() => damaged.entries(ino), (e: Error) => e instanceof Corrupt);
  closeSync(r);
});

t.run();
