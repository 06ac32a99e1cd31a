import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readPartitionTable, readSuperblock } from '../../init/sys/block-devices';

// What boot reads from the devices instead of spawning blkid, on files
// made by the real tools, against what blkid and sfdisk say of them.

const t = suite('sys/block-devices');
let dir: string;
t.before.each(() => {
  dir = mkdtempSync(join(tmpdir(), 'roroot-blk-'));
});
t.after.each(() => rmSync(dir, { recursive: true, force: true }));

const blkid = (file: string) => Object.fromEntries(execFileSync('blkid', ['-c', '/dev/null', '-o', 'export', file], { encoding: 'utf8' }).trim().split('\n').map((l) => l.split('=')) as [string, string][]);
const image = (name: string, mib: number) => {
  const f = join(dir, name);
  writeFileSync(f, '');
  truncateSync(f, mib << 20);
  return f;
};
const head = (f: string) => readFileSync(f).subarray(0, 4096);

t('ext2, ext3, ext4 and swap: the labels, UUIDs and types blkid reads', () => {
  for (const [fs, args] of [['ext2', []], ['ext3', []], ['ext4', []], ['ext4', ['-O', '^has_journal']]] as const) {
    const f = image(`${fs}.img`, 8);
    execFileSync(`mkfs.${fs}`, ['-q', '-F', '-L', 'my label', ...args, f]);
    const b = blkid(f);
    assert.equal(readSuperblock(head(f)), { label: 'my label', uuid: b.UUID, fstype: b.TYPE }, fs);
  }
  const s = image('swap.img', 8);
  execFileSync('mkswap', ['-q', '-L', 'roroot-swap', s]);
  assert.equal(readSuperblock(head(s)), { label: 'roroot-swap', uuid: blkid(s).UUID, fstype: 'swap' });
  assert.is(readSuperblock(Buffer.alloc(4096)), 'empty');
  assert.is(readSuperblock(Buffer.alloc(4096, 7)), null, 'something else: blkid is asked');
});

t('PARTUUIDs: MBR <disk id>-<nn, hex> and GPT GUIDs with their names, as sfdisk says', () => {
  const mbr = image('mbr.img', 64);
  execFileSync('sfdisk', ['-q', mbr], { input: `label: dos\nlabel-id: 0x0badf00d\n${',1M,L\n'.repeat(3)},,E\n,1M\n,1M\n,1M\n,1M\n,1M\n,1M\n,1M\n,1M\n,1M\n,1M\n,1M\n,1M\n` });
  const gpt = image('gpt.img', 64);
  execFileSync('sfdisk', ['-q', gpt], { input: 'label: gpt\nsize=1M, type=L, name=boot\nsize=1M, type=L\n' });
  const table = (f: string) => {
    const fd = openSync(f, 'r');
    try {
      return readPartitionTable(fd);
    } finally {
      closeSync(fd);
    }
  };
  // libblkid's MBR rule: "%08x-%02x", the partition number in hex.
  const m = table(mbr);
  assert.equal([1, 2, 5, 16].map((n) => m.get(n)?.partuuid), ['0badf00d-01', '0badf00d-02', '0badf00d-05', '0badf00d-10']);
  const g = table(gpt);
  for (const n of [1, 2]) assert.is(g.get(n)?.partuuid, execFileSync('sfdisk', ['--part-uuid', gpt, String(n)], { encoding: 'utf8' }).trim().toLowerCase(), `gpt ${n}`);
  assert.equal([g.get(1)?.partlabel, g.get(2)?.partlabel], ['boot', null]);
  assert.is(readPartitionTable(openSync(image('blank.img', 1), 'r')).size, 0, 'no table, no PARTUUID');
});

t.run();
