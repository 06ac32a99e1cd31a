import { spawnSync } from 'node:child_process';
import { STATE_FILES, TRIES_FILE } from '../../init/flash/grub';
import { BLOCK, type Slot } from '../../init/upgrade/boot-state';
import type { Partition } from './root-check';

// Where the two-slot image (board/qemu-ab.conf) keeps what an upgrade
// flips: the boot partition (p1) with the boot records' and the tries'
// blocks, allocated once at flash time and never moved (init/upgrade/
// slot-io.ts), and the root slots a (p2) and b (p3). Read off the base
// image once: a crash state changes the blocks' bytes, not where they are.

export interface SlotLayout {
  boot: Partition;
  slots: Record<Slot, Partition>;
  copies: [number, number]; // disk offsets of /roroot/state0, /roroot/state1
  tries: number; // of /roroot/tries
  block: number; // their length: one GRUB environment block
}

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

export function slotLayout(image: string): SlotLayout {
  const parts = (JSON.parse(run('sfdisk', ['--json', image])) as { partitiontable: { partitions: { start: number; size: number }[] } }).partitiontable.partitions.map((p) => ({ start: p.start * 512, size: p.size * 512 }));
  if (parts.length < 3) throw new Error(`${image}: not a two-slot image (${parts.length} partitions)`);
  const boot = parts[0];
  const fs = `${image}?offset=${boot.start}`;
  const block = Number(/Block size:\s+(\d+)/.exec(run('dumpe2fs', ['-h', fs]))?.[1]);
  const at = (file: string) => {
    const blocks = run('debugfs', ['-R', `blocks ${file}`, fs]).trim().split(/\s+/).map(Number);
    if (!(block > 0) || !blocks[0]) throw new Error(`${image}: ${file} is not a block of the boot partition`);
    return boot.start + blocks[0] * block;
  };
  // The filesystem's block locates them; what is read is the record's own
  // length (BLOCK): with the boot partition's 4 KiB blocks (flash.ts) a
  // read of the filesystem block made every copy invalid to decodeRecord,
  // and every cut "old".
  return { boot, slots: { a: parts[1], b: parts[2] }, copies: [at(STATE_FILES[0]), at(STATE_FILES[1])], tries: at(TRIES_FILE), block: BLOCK };
}
