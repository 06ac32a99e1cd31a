import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeRecord, encodeTries, type BootRecord } from '../../init/upgrade/boot-state';
import { STATE_FILES, TRIES_FILE } from '../../init/flash/grub';
import { crashState, STORAGE } from './crash-state';
import type { Request } from './request-log';
import { slotLayout, type SlotLayout } from './slot-layout';
import { bootOrder, bootStateSpans, UpgradeJudge, type UpgradeCandidate } from './tier1-upgrade';

// The upgrade judge on a small two-slot disk laid out as make image lays
// qemu-ab's (p1 an ext2 boot partition with the records' and the tries'
// blocks, p2 slot a an ext4 root, p3 slot b empty; mkfs -d, sfdisk on a
// file: no root), with an upgrade's writes as roroot upgrade and the
// commit make them:
// slot b written and flushed, the tries, the record that arms the trial,
// then the commit's tries and record. Crash states of that log come up
// with the firmware the boot records and slot b's content say.

const t = suite('tier 1 of the upgrade scenario');
const SIZE = 1 << 20; // the "image" written to slot b: its first MiB
let dir: string;
let layout: SlotLayout;
let requests: Request[];
let judge: UpgradeJudge;
const marks: Record<string, number> = {};

const MIB = 1 << 20;

// The disk: 1 MiB of MBR, then three 4 MiB partitions.
function twoSlotDisk(): string {
  const sh = (cmd: string, args: string[], input?: string) => execFileSync(cmd, args, { input, stdio: ['pipe', 'ignore', 'pipe'] });
  const tree = (name: string, files: Record<string, Buffer | string>) => {
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(join(dir, name, path, '..'), { recursive: true });
      writeFileSync(join(dir, name, path), content);
    }
    const img = join(dir, `${name}.img`);
    writeFileSync(img, '');
    truncateSync(img, 4 * MIB);
    return img;
  };
  const flashed: BootRecord = { seq: 1, default: 'a', trial: 'none', sha256: '', size: 0, version: '', note: '' };
  const boot = tree('boot', { [STATE_FILES[0]]: encodeRecord(0, flashed), [STATE_FILES[1]]: encodeRecord(1, { ...flashed, seq: 0 }), [TRIES_FILE]: encodeTries(0) });
  // 4 KiB blocks, as flash.ts makes it (each record in a page of its own).
  sh('mkfs.ext2', ['-q', '-F', '-b', '4096', '-d', join(dir, 'boot'), boot]);
  const root = tree('root', { 'var/lib/dpkg/status': '', 'etc/roroot/firmware': 'old\n' });
  sh('mkfs.ext4', ['-q', '-F', '-d', join(dir, 'root'), root]);
  const disk = join(dir, 'disk.img');
  writeFileSync(disk, '');
  truncateSync(disk, 13 * MIB);
  sh('sfdisk', ['-q', disk], 'start=2048,size=8192\nstart=10240,size=8192\nstart=18432,size=8192\n');
  sh('dd', [`if=${boot}`, `of=${disk}`, 'bs=1M', 'seek=1', 'conv=notrunc', 'status=none']);
  sh('dd', [`if=${root}`, `of=${disk}`, 'bs=1M', 'seek=5', 'conv=notrunc', 'status=none']);
  return disk;
}

t.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'roroot-tier1-upgrade-'));
  const IMAGE = twoSlotDisk();
  layout = slotLayout(IMAGE);
  const image = randomBytes(SIZE);
  const sha256 = createHash('sha256').update(image).digest('hex');
  // As flashed: copy 0 holds seq 1 (default a), copy 1 seq 0.
  const armed: BootRecord = { seq: 2, default: 'a', trial: 'b', sha256, size: SIZE, version: 'next', note: '' };
  const committed: BootRecord = { ...armed, seq: 3, default: 'b', trial: 'none' };
  const data: Buffer[] = [];
  requests = [];
  let at = 0;
  const op = (o: 'write' | 'flush', offset = 0, bytes?: Buffer) => {
    requests.push({ i: requests.length, t: requests.length * 1000, op: o, offset, length: bytes?.length ?? 0, fua: false, phase: 'upgrade', at: bytes ? at : null, sha: null });
    if (bytes) {
      data.push(bytes);
      at += bytes.length;
    }
  };
  for (let o = 0; o < SIZE; o += 65536) op('write', layout.slots.b.start + o, image.subarray(o, o + 65536));
  op('flush');
  marks.written = requests.length;
  op('write', layout.tries, encodeTries(2));
  op('flush');
  op('write', layout.copies[1], encodeRecord(1, armed));
  op('flush');
  marks.armed = requests.length;
  op('write', layout.tries, encodeTries(0));
  op('flush');
  marks.commitTries = requests.length;
  op('write', layout.copies[0], encodeRecord(0, committed));
  op('flush');
  marks.committed = requests.length;
  writeFileSync(join(dir, 'writes.bin'), Buffer.concat(data));
  judge = new UpgradeJudge(IMAGE, join(dir, 'writes.bin'), join(dir, 'work'), { size: SIZE, sha256 });
});
t.after(() => {
  judge?.close();
  rmSync(dir, { recursive: true, force: true });
});

const at = (k: number, policy: 'prefix' | 'flush-ignored' = 'prefix', seed = 1, storage = STORAGE) => judge.judge(crashState(requests, k, policy, seed, storage).pieces);

t('before the record arms the trial: the old firmware; slot a untouched', async () => {
  for (const k of [1, marks.written, marks.written + 2]) {
    const j = await at(k);
    assert.is(j.firmware, 'old', `K=${k}: ${j.path}`);
    assert.is(j.a.verdict, 'untouched');
  }
});

t('armed, and committed: the new firmware, slot b holding its image', async () => {
  for (const k of [marks.armed, marks.committed]) {
    const j = await at(k);
    assert.is(j.firmware, 'new', `K=${k}: ${j.path}`);
    assert.ok(j.slots.b.holds);
  }
});

t('a cut between the commit\'s tries and its record: the trial has no tries left, the old default boots', async () => {
  const j = await at(marks.commitTries);
  assert.equal([j.record?.trial, j.tries, j.firmware], ['b', 0, 'old']);
});

t('storage that ignored the flushes loses some of slot b under a kept record: the trial slot does not hold its image, old', async () => {
  // Everything of the recording at risk: the horizon covers it all.
  const storage = { ...STORAGE, horizonBytes: 1 << 30, horizonMs: 1e9 };
  let seen = 0;
  for (let seed = 0; seed < 64 && seen < 3; seed++) {
    const s = crashState(requests, marks.armed, 'flush-ignored', seed, storage);
    const recordKept = s.pieces.some((p) => p.offset === layout.copies[1] && p.length === 1024);
    const triesKept = s.pieces.some((p) => p.offset === layout.tries && p.length === 1024);
    const bLost = s.lost > 0 && s.pieces.filter((p) => p.offset >= layout.slots.b.start && p.offset < layout.slots.b.start + SIZE).reduce((a, p) => a + p.length, 0) < SIZE;
    if (!recordKept || !triesKept || !bLost) continue;
    seen++;
    const j = await judge.judge(s.pieces);
    assert.is(j.record?.trial, 'b');
    assert.not.ok(j.slots.b.holds);
    assert.is(j.firmware, 'old', j.path);
  }
  assert.ok(seen > 0, 'no seed lost slot b under a kept record');
});

t('the cut points split where the boot partition is written: a stretch before, between and after its writes', () => {
  const points = requests.map((r) => r.i + 1);
  const spans = bootStateSpans(points, requests, layout.boot);
  // b's 16 writes and the flush; tries; flush; the record; flush; tries; flush; the record; flush.
  assert.equal(spans.map((x) => [x[0], x[x.length - 1]]), [[1, 17], [18, 19], [20, 21], [22, 23], [24, 25]]);
  assert.is(spans.flat().length, points.length);
});

t('tier 2 boots one state of a key before any twice, risky, new and old by turns, each policy from its own turn', () => {
  const c = (k: number, risk: number, firmware: 'old' | 'new' | null, key: string): UpgradeCandidate => ({ k, seed: 0, risk, firmware, path: '', key });
  const pool = [c(1, 0, 'old', 'x'), c(2, 0, 'old', 'x'), c(3, 0, 'old', 'y'), c(4, 0, 'new', 'z'), c(5, 2, 'old', 'w'), c(6, 0, 'new', 'v'), c(7, 3, null, 'u')];
  assert.equal(bootOrder(pool).map((x) => x.k), [7, 4, 1, 5, 6, 3, 2]);
  assert.equal(bootOrder(pool, 1).map((x) => x.k), [4, 1, 7, 6, 3, 5, 2]);
  assert.equal(bootOrder(pool, 2).map((x) => x.k), [1, 7, 4, 3, 5, 6, 2]);
});

t.run();
