import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { clip, type Piece } from './crash-state';
import { copyRange, readFully } from './sector-disk';

// Tier 1: is the root filesystem of a crash state one the next boot can
// mount as it is? The root partition is copied out of the base image once;
// each state's writes to it are laid on the copy, e2fsck looks, and the
// copy is put back. States whose root got the same writes are checked once
// (most cuts never touch a read-only root).
//
// A state whose journal needs recovery is first replayed (`e2fsck -E
// journal_only`, as the kernel would at mount) under an undo file, then
// checked with `e2fsck -fn`; e2undo takes the replay back. "replay" is such
// a state that is then clean: ext4 doing its job, not damage.

export type RootVerdict = 'untouched' | 'clean' | 'replay' | 'errors';

export interface RootResult {
  verdict: RootVerdict;
  writes: number; // pieces of the state that land on the root
  detail: string; // e2fsck's complaint, for errors
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

const EXT4_FEATURE_INCOMPAT_RECOVER = 0x4;

export class RootChecker {
  private readonly seen = new Map<string, RootResult>();
  private readonly copy: string;
  private readonly undo: string;
  private readonly baseFd: number;
  private readonly writesFd: number;
  checked = 0; // e2fsck runs, after de-duplication

  constructor(
    base: string,
    private readonly part: Partition,
    writesBin: string,
    work: string,
  ) {
    this.copy = join(work, 'root.img');
    this.undo = join(work, 'root.e2undo');
    const mib = 1024 * 1024;
    if (part.start % mib || part.size % mib) throw new Error('the root partition is not MiB-aligned');
    run('dd', [`if=${base}`, `of=${this.copy}`, 'bs=1M', `skip=${part.start / mib}`, `count=${part.size / mib}`, 'conv=sparse', 'status=none']);
    this.baseFd = openSync(base, 'r');
    this.writesFd = openSync(writesBin, 'r');
  }

  check(pieces: Piece[]): RootResult {
    const mine = clip(pieces, this.part.start, this.part.size);
    if (mine.length === 0) return { verdict: 'untouched', writes: 0, detail: '' };
    const key = createHash('sha1').update(JSON.stringify(mine)).digest('hex');
    const known = this.seen.get(key);
    if (known) return known;
    const fd = openSync(this.copy, 'r+');
    try {
      for (const p of mine) copyRange(this.writesFd, p.at, fd, p.offset, p.length);
      const result = { ...this.fsck(fd), writes: mine.length };
      this.seen.set(key, result);
      return result;
    } finally {
      // Back to the pristine root: the base's bytes where the state wrote.
      for (const p of mine) copyRange(this.baseFd, this.part.start + p.offset, fd, p.offset, p.length);
      closeSync(fd);
    }
  }

  private fsck(fd: number): Omit<RootResult, 'writes'> {
    this.checked++;
    const sb = Buffer.alloc(4);
    readFully(fd, sb, 0, 4, 1024 + 0x60);
    const recover = (sb.readUInt32LE(0) & EXT4_FEATURE_INCOMPAT_RECOVER) !== 0;
    if (recover) {
      rmSync(this.undo, { force: true });
      const replay = spawnSync('e2fsck', ['-E', 'journal_only', '-y', '-z', this.undo, this.copy], { encoding: 'utf8' });
      if (replay.status !== 0 && replay.status !== 1) {
        this.takeBack();
        return { verdict: 'errors', detail: `e2fsck -E journal_only: exit ${replay.status}: ${tail(replay.stdout + replay.stderr)}` };
      }
    }
    const r = spawnSync('e2fsck', ['-fn', this.copy], { encoding: 'utf8' });
    if (recover) this.takeBack();
    if (r.status === 0) return { verdict: recover ? 'replay' : 'clean', detail: '' };
    return { verdict: 'errors', detail: `e2fsck -fn: exit ${r.status}: ${tail(r.stdout + r.stderr)}` };
  }

  private takeBack() {
    if (existsSync(this.undo)) run('e2undo', [this.undo, this.copy]);
  }

  close() {
    closeSync(this.baseFd);
    closeSync(this.writesFd);
    rmSync(this.copy, { force: true });
    rmSync(this.undo, { force: true });
  }
}

function run(cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${(r.stderr || r.stdout).trim()}`);
}

function tail(text: string): string {
  return text.trim().split('\n').slice(-6).join(' | ');
}
