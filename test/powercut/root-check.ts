import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fstatSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clip, type Piece } from './crash-state';
import { Corrupt, Ext4, type Read } from './ext4';
import { replayJournal } from './jbd2';
import { PackageIndex } from './package-index';
import { PackageCheck } from './packages-check';
import { PieceData } from './pieces';
import { PRISTINE, RootContent, sourcePiece, type Content } from './root-content';
import { readFully, SECTOR, writeFully } from './sector-disk';
import { Shell } from './shell';

// Tier 1: what a crash state did to the root filesystem, without booting.
// The root partition is copied out of the base image once; a state's
// pieces are laid on the copy, the journal is replayed as the kernel would
// at mount (jbd2.ts), files left on the orphan list are released as the
// kernel would next (e2fsck does it), `e2fsck -fn` looks, dpkg looks
// (packages-check.ts), and everything written is put back from the base
// image, so that every state is judged as if alone. States that leave the root with the same
// content are judged once. "replay" is a state whose journal needed
// recovery and that is then clean: ext4 doing its job, not damage.

export type RootVerdict = 'untouched' | 'clean' | 'replay' | 'errors';

export interface RootResult {
  key: string; // the root's content (root-content.ts)
  verdict: RootVerdict;
  writes: number; // pieces of the state that land on the root
  detail: string; // e2fsck's (or the journal's) complaint, for errors
  changed: boolean; // the root's bytes differ from the reference's
  packages: string[]; // what dpkg found that it did not as flashed
  recovery: boolean; // the kernel's mount would write it: a journal to replay, orphans to release
}

export interface Partition {
  start: number; // bytes
  size: number;
}

// The first partition of an MBR image, from sfdisk.
export function rootPartition(image: string): Partition {
  const r = spawnSync('sfdisk', ['--json', image], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sfdisk --json ${image}: ${r.stderr.trim()}`);
  const p = (JSON.parse(r.stdout) as { partitiontable: { partitions: { start: number; size: number }[] } }).partitiontable.partitions[0];
  return { start: p.start * 512, size: p.size * 512 };
}

type Judgement = Omit<RootResult, 'key' | 'writes' | 'changed'>;

// A copy of the root partition that a state is laid on, one state at a
// time: while one copy waits for e2fsck, the next state goes on another.
// `laid`: what the copy holds besides the base's bytes, sector -> source.
interface Slot {
  copy: string;
  busy: boolean;
  laid: Map<number, number>;
  shell: Shell; // runs its e2fsck
}

export class RootChecker {
  private readonly seen = new Map<string, Promise<Judgement>>(); // by content key
  private readonly keys = new Map<string, string>(); // pieces -> content key
  private readonly slots: Slot[] = [];
  private readonly free: (() => void)[] = [];
  private readonly data: PieceData;
  private readonly content: RootContent;
  private readonly packages: PackageCheck;
  private readonly flashed: string; // what a copy as flashed is a copy of
  checked = 0; // states judged, after de-duplication

  get dpkgRuns(): number {
    return this.packages.dpkgRuns;
  }

  constructor(
    base: string,
    private readonly part: Partition,
    writesBin: string,
    work: string,
    slots = 2,
  ) {
    const mib = 1024 * 1024;
    if (part.start % mib || part.size % mib) throw new Error('the root partition is not MiB-aligned');
    // A copy left as flashed by the last checker of the same root is taken
    // again (its .flashed file names that root); any other is made anew.
    const st = statSync(base);
    this.flashed = `${base} ${st.size} ${st.mtimeMs} ${part.start} ${part.size}\n`;
    for (let i = 0; i < slots; i++) {
      const copy = join(work, `root-${i}.img`);
      const mark = `${copy}.flashed`;
      if (!existsSync(mark) || readFileSync(mark, 'utf8') !== this.flashed || !existsSync(copy)) {
        rmSync(mark, { force: true });
        run('dd', [`if=${base}`, `of=${copy}`, 'bs=1M', `skip=${part.start / mib}`, `count=${part.size / mib}`, 'conv=sparse', 'status=none']);
      }
      rmSync(mark, { force: true }); // in use: not as flashed until close()
      this.slots.push({ copy, busy: false, laid: new Map(), shell: new Shell() });
    }
    this.data = new PieceData(writesBin, base);
    const writesFd = openSync(writesBin, 'r');
    const writesBytes = fstatSync(writesFd).size;
    closeSync(writesFd);
    this.content = new RootContent(this.data, part.start, part.size, writesBytes);
    const pristine = new Ext4((offset, length) => this.data.read({ offset: 0, length, at: part.start + offset, from: 'base' }));
    this.packages = new PackageCheck(new PackageIndex(pristine), work);
  }

  // The content key of the root as `pieces` leave it: a reference to
  // compare states with.
  keyOf(pieces: Piece[]): string {
    const mine = clip(pieces, this.part.start, this.part.size);
    return mine.length === 0 ? PRISTINE : this.content.of(mine).key;
  }

  async check(pieces: Piece[], reference: string = PRISTINE): Promise<RootResult> {
    const mine = clip(pieces, this.part.start, this.part.size);
    if (mine.length === 0) return { key: PRISTINE, verdict: 'untouched', writes: 0, detail: '', changed: reference !== PRISTINE, packages: [], recovery: false };
    // The same pieces are the same content: summed up once.
    const same = createHash('sha1').update(JSON.stringify(mine)).digest('hex');
    let key = this.keys.get(same);
    if (!key) {
      const c = this.content.of(mine);
      key = c.key;
      this.keys.set(same, key);
      if (!this.seen.has(key)) this.seen.set(key, this.judge(c));
    }
    return { ...(await (this.seen.get(key) as Promise<Judgement>)), key, writes: mine.length, changed: key !== reference };
  }

  private async slot(): Promise<Slot> {
    for (;;) {
      const s = this.slots.find((x) => !x.busy);
      if (s) {
        s.busy = true;
        return s;
      }
      await new Promise<void>((r) => this.free.push(r));
    }
  }

  private release(s: Slot) {
    s.busy = false;
    this.free.shift()?.();
  }

  // The copy made to hold `c`: sectors it no longer has back to the base's
  // bytes, sectors it has anew written, runs of them at once.
  private lay(fd: number, slot: Slot, c: Content) {
    const want = new Map<number, number>();
    c.changed.forEach((sector, i) => want.set(sector, c.sources[i]));
    const base: number[] = [];
    for (const sector of slot.laid.keys()) if (!want.has(sector)) base.push(sector);
    const mine: number[] = [];
    for (const [sector, source] of want) if (slot.laid.get(sector) !== source) mine.push(sector);
    for (const [first, n] of runs(base.sort((a, b) => a - b), (s) => s)) writeFully(fd, this.baseBytes(first * SECTOR, n * SECTOR), first * SECTOR);
    for (const [first, n] of runs(mine.sort((a, b) => a - b), (s) => want.get(s) as number)) {
      writeFully(fd, this.data.read(sourcePiece(want.get(first) as number, n * SECTOR)), first * SECTOR);
    }
    slot.laid = want;
  }

  private baseBytes(offset: number, length: number): Buffer {
    return this.data.read({ offset, length, at: this.part.start + offset, from: 'base' });
  }

  private async judge(c: Content): Promise<Judgement> {
    const slot = await this.slot();
    this.checked++;
    const changedSectors = c.changed;
    const fd = openSync(slot.copy, 'r+');
    const read: Read = (offset, length) => {
      const b = Buffer.allocUnsafe(length); // every byte read, or zeroed past the end
      readFully(fd, b, 0, length, offset);
      return b;
    };
    const written: Range[] = [];
    let recovery = false;
    const judged = (verdict: RootVerdict, detail: string): Judgement => ({ verdict, detail, packages: this.findings(read, changedSectors, written), recovery });
    try {
      this.lay(fd, slot, c);
      let recovered = false;
      try {
        const replay = replayJournal(new Ext4(read, true));
        if (replay) {
          for (const w of replay.writes) writeFully(fd, w.data, w.offset);
          written.push(...replay.writes.map((w) => ({ offset: w.offset, length: w.data.length })));
          recovered = recovery = true;
        }
      } catch (err) {
        if (!(err instanceof Corrupt)) throw err;
        recovery = true;
        return judged('errors', `journal recovery: ${err.message}`);
      }
      let orphans: Range[];
      try {
        orphans = orphanRelease(new Ext4(read, true));
      } catch (err) {
        if (!(err instanceof Corrupt)) throw err;
        orphans = [];
      }
      if (orphans.length > 0) {
        recovery = true;
        written.push(...orphans);
        const r = await slot.shell.run(['e2fsck', '-E', 'journal_only', '-y', slot.copy]);
        if (r.status !== 0 && r.status !== 1) return judged('errors', `e2fsck -E journal_only (orphans): exit ${r.status}: ${tail(r.out)}`);
      }
      const r = await slot.shell.run(['e2fsck', '-fn', slot.copy]);
      if (r.status === 0) return judged(recovered ? 'replay' : 'clean', '');
      return judged('errors', `e2fsck -fn: exit ${r.status}: ${tail(r.out)}`);
    } finally {
      // Back to the state as laid: what the replay and e2fsck wrote, as the
      // base and the state have it.
      for (const w of written) {
        writeFully(fd, this.baseBytes(w.offset, w.length), w.offset);
        for (let sector = w.offset / SECTOR; sector < (w.offset + w.length) / SECTOR; sector++) {
          const source = slot.laid.get(sector);
          if (source !== undefined) writeFully(fd, this.data.read(sourcePiece(source)), sector * SECTOR);
        }
      }
      closeSync(fd);
      this.release(slot);
    }
  }

  private findings(read: Read, changedSectors: number[], written: Range[]): string[] {
    let fs: Ext4;
    try {
      fs = new Ext4(read, true);
    } catch (err) {
      if (err instanceof Corrupt) return [`the root cannot be read: ${err.message}`];
      throw err;
    }
    const bs = fs.g.blockSize;
    const blocks = new Set(changedSectors.map((s) => Math.floor((s * SECTOR) / bs)));
    for (const w of written) for (let b = Math.floor(w.offset / bs); b < Math.ceil((w.offset + w.length) / bs); b++) blocks.add(b);
    try {
      return this.packages.check(fs, blocks);
    } catch (err) {
      if (err instanceof Corrupt) return [`the root cannot be read: ${err.message}`];
      throw err;
    }
  }

  // The copies put back as flashed, and kept for the next checker.
  close() {
    this.packages.close();
    for (const s of this.slots) {
      s.shell.close();
      const fd = openSync(s.copy, 'r+');
      for (const [first, n] of runs([...s.laid.keys()].sort((a, b) => a - b), (x) => x)) writeFully(fd, this.baseBytes(first * SECTOR, n * SECTOR), first * SECTOR);
      closeSync(fd);
      writeFileSync(`${s.copy}.flashed`, this.flashed);
    }
    this.data.close();
  }
}

interface Range {
  offset: number;
  length: number;
}

// Ascending sectors as [first, count] runs whose sources (>= 0) follow on
// from each other: read and written in one call each.
function* runs(sectors: number[], source: (sector: number) => number): Generator<[number, number]> {
  let first = -1;
  let n = 0;
  for (const s of sectors) {
    if (n > 0 && s === first + n && source(first) >= 0 && source(s) === source(first) + n && n < 2048) n++;
    else {
      if (n > 0) yield [first, n];
      first = s;
      n = 1;
    }
  }
  if (n > 0) yield [first, n];
}

// What releasing the orphan list may write: the superblock, the group
// descriptors, the bitmaps, and each orphan's inode and extent tree.
// Nothing, when the list is empty.
export function orphanRelease(fs: Ext4): Range[] {
  const { lastOrphan, blockSize, descriptorBlocks, bitmaps, inodesPerGroup, inodeTables } = fs.g;
  if (lastOrphan === 0) return [];
  const blocks = new Set<number>([Math.floor(1024 / blockSize), ...descriptorBlocks, ...bitmaps]);
  const seen = new Set<number>();
  for (let ino = lastOrphan; ino > 0 && ino <= inodesPerGroup * inodeTables.length && !seen.has(ino); ) {
    seen.add(ino);
    blocks.add(fs.inodeBlock(ino));
    const inode = fs.inode(ino);
    try {
      for (const b of fs.map(inode).tree) blocks.add(b);
    } catch (err) {
      if (!(err instanceof Corrupt)) throw err;
    }
    ino = inode.readUInt32LE(0x14); // i_dtime: the next orphan
  }
  return [...blocks].map((b) => ({ offset: b * blockSize, length: blockSize }));
}

function run(cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${(r.stderr || r.stdout).trim()}`);
}

function tail(text: string): string {
  return text.trim().split('\n').slice(-6).join(' | ');
}
