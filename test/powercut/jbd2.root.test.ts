import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { inNamespace } from '../support/namespace';
import { Ext4, INCOMPAT } from './ext4';
import { replayJournal } from './jbd2';
import { readFully, writeFully } from './sector-disk';

// The harness's journal replay against e2fsck's, on journals the kernel
// wrote: an ext4 on a loop device (private mount namespace) is copied while
// mounted, after sync, so its journal holds committed transactions the
// copy has not checkpointed, revoke records among them.

const t = suite('jbd2 replay (root, loop devices)');
let dir: string;

t.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'roroot-jbd2-'));
});
t.after(() => rmSync(dir, { recursive: true, force: true }));

const reader = (file: string) => {
  const fd = openSync(file, 'r');
  return {
    read: (offset: number, length: number) => {
      const b = Buffer.alloc(length);
      readFully(fd, b, 0, length, offset);
      return b;
    },
    close: () => closeSync(fd),
  };
};

function snapshots(): string[] {
  const fs = join(dir, 'fs.img');
  execFileSync('mkfs.ext4', ['-q', '-F', '-b', '4096', '-O', '^64bit,^metadata_csum', fs, '256M']);
  const r = inNamespace(
    `mkdir -p ${dir}/m; L=$(losetup -f --show ${fs}); mount -o noatime,commit=600 $L ${dir}/m; cd ${dir}/m
mkdir -p a b; for i in $(seq 1 400); do echo "file $i" > a/f$i; done; head -c 3000000 /dev/urandom > b/big; sync
cp --sparse=always ${fs} ${dir}/snap1.img
rm -rf a; mkdir c; for i in $(seq 1 300); do echo "other $i" > c/g$i; done; mv b/big c/; ln -s ../c/g1 b/link; sync
for i in $(seq 1 40); do head -c 65536 /dev/urandom > reuse$i; done; sync
cp --sparse=always ${fs} ${dir}/snap2.img
cd /; umount ${dir}/m; losetup -d $L`,
  );
  assert.is(r.code, 0, r.stderr);
  return [join(dir, 'snap1.img'), join(dir, 'snap2.img')];
}

t('on a journal the kernel left, the replay writes what e2fsck -E journal_only writes, and leaves a clean filesystem', () => {
  for (const snap of snapshots()) {
    const ours = `${snap}.ours`;
    const theirs = `${snap}.e2fsck`;
    copyFileSync(snap, ours);
    copyFileSync(snap, theirs);
    const src = reader(snap);
    const fs = new Ext4(src.read);
    const replay = replayJournal(fs);
    src.close();
    assert.ok(replay && replay.transactions > 0, 'the copy needs recovery');
    const fd = openSync(ours, 'r+');
    for (const w of replay.writes) writeFully(fd, w.data, w.offset);
    closeSync(fd);
    const e = spawnSync('e2fsck', ['-E', 'journal_only', '-y', theirs], { encoding: 'utf8' });
    assert.ok(e.status === 0 || e.status === 1, e.stdout + e.stderr);
    const a = readFileSync(ours);
    const b = readFileSync(theirs);
    const differ: number[] = [];
    for (let blk = 0; blk < a.length / 4096; blk++) if (!a.subarray(blk * 4096, (blk + 1) * 4096).equals(b.subarray(blk * 4096, (blk + 1) * 4096))) differ.push(blk);
    // Block 0 holds the superblock: e2fsck also writes its own bookkeeping
    // (mount counts, free counts, times); the journal's superblock too.
    const journalSb = new Ext4(reader(ours).read).map(new Ext4(reader(ours).read).inode(8)).runs[0].physical;
    assert.equal(differ.filter((x) => x !== 0 && x !== journalSb), [], `blocks that differ: ${differ.join(' ')}`);
    const after = new Ext4(reader(ours).read);
    assert.is(after.read(1024, 1024).readUInt32LE(0x60) & INCOMPAT.RECOVER, 0, 'no longer needs recovery');
    const fsck = spawnSync('e2fsck', ['-fn', ours], { encoding: 'utf8' });
    assert.is(fsck.status, 0, fsck.stdout);
  }
});

t('revoke records, escaped blocks and an uncommitted transaction, as e2fsck replays them (debugfs journal writes)', () => {
  const fs = join(dir, 'debugfs.img');
  execFileSync('mkfs.ext4', ['-q', '-F', '-b', '4096', '-O', '^64bit,^metadata_csum', fs, '64M']);
  const block = (fill: number, magic = false) => {
    const b = Buffer.alloc(4096, fill);
    if (magic) b.writeUInt32BE(0xc03b3998, 0); // jbd2 escapes it in the log
    return b;
  };
  writeFileSync(join(dir, 'a'), block(0xa1));
  writeFileSync(join(dir, 'b'), Buffer.concat([block(0xb1, true), block(0xb2)]));
  writeFileSync(join(dir, 'c'), block(0xc1));
  // 9000 logged, then revoked by a later transaction: not replayed. 9100
  // logged twice: the later copy wins. 9200 in a transaction never committed.
  const script = ['jo', `jw -b 9000,9100 ${join(dir, 'b')}`, 'jw -r 9000', `jw -b 9100 ${join(dir, 'a')}`, `jw -b 9001,9002 ${join(dir, 'b')}`, `jw -c -b 9200 ${join(dir, 'c')}`, 'jc'].join('\n');
  execFileSync('debugfs', ['-w', '-f', '-', fs], { input: script + '\n', stdio: ['pipe', 'ignore', 'ignore'] });
  const theirs = `${fs}.e2fsck`;
  copyFileSync(fs, theirs);
  const src = reader(fs);
  const replay = replayJournal(new Ext4(src.read));
  src.close();
  assert.ok(replay);
  const logged = (b: number) => replay.writes.find((w) => w.offset === b * 4096)?.data;
  assert.is(logged(9000), undefined, 'revoked');
  assert.equal(logged(9100), block(0xa1), 'the later transaction');
  assert.equal(logged(9001), block(0xb1, true), 'the escaped magic restored');
  assert.equal(logged(9002), block(0xb2));
  assert.is(logged(9200), undefined, 'not committed');
  assert.is(replay.transactions, 4);
  spawnSync('e2fsck', ['-E', 'journal_only', '-y', theirs]);
  const b = readFileSync(theirs);
  for (const n of [9000, 9001, 9002, 9100, 9200]) assert.equal(b.subarray(n * 4096, (n + 1) * 4096), logged(n) ?? readFileSync(fs).subarray(n * 4096, (n + 1) * 4096), `block ${n} as e2fsck left it`);
});

t('a clean filesystem needs no replay; a damaged journal superblock is reported, not replayed', () => {
  const fs = join(dir, 'clean.img');
  execFileSync('mkfs.ext4', ['-q', '-F', '-b', '4096', '-O', '^64bit,^metadata_csum', fs, '64M']);
  const src = reader(fs);
  assert.is(replayJournal(new Ext4(src.read)), null);
  src.close();
  // Ask for recovery, then break the journal's superblock.
  const e = new Ext4(reader(fs).read);
  const fd = openSync(fs, 'r+');
  const sb = e.read(1024, 1024);
  sb.writeUInt32LE(sb.readUInt32LE(0x60) | INCOMPAT.RECOVER, 0x60);
  writeFully(fd, sb, 1024);
  writeFully(fd, Buffer.alloc(4096, 0xab), e.map(e.inode(8)).runs[0].physical * 4096);
  closeSync(fd);
  assert.throws(() => replayJournal(new Ext4(reader(fs).read)), /the journal superblock is not one/);
  writeFileSync(join(dir, 'x'), '');
});

t.run();
