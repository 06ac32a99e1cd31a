// Just enough of ext4 to read a crash state's root without mounting it:
// the superblock, group descriptors, inodes, extent trees, directories and
// symlinks, from any function that reads bytes of the filesystem. The
// power-cut harness replays the journal (jbd2.ts) and checks packages
// (packages-check.ts) with it, for thousands of states a minute. What the
// reference image does not use (meta_bg, inline data, block-mapped files)
// is refused with a precise error rather than misread; on a crash state
// (`damaged`) the same refusal is Corrupt: the state made it so.
// Layout: https://www.kernel.org/doc/html/latest/filesystems/ext4/

export type Read = (offset: number, length: number) => Buffer;

export const SUPERBLOCK = 1024;
export const INCOMPAT = { RECOVER: 0x4, META_BG: 0x10, EXTENTS: 0x40, BIT64: 0x80, INLINE_DATA: 0x8000 } as const;
export const RO_COMPAT_METADATA_CSUM = 0x400;
const MAGIC = 0xef53;
const EXTENT_MAGIC = 0xf30a;
const EXTENTS_FL = 0x80000;
export const ROOT_INO = 2;

// A structure that does not read as it should: a damaged state's doing.
export class Corrupt extends Error {}

export interface Run {
  logical: number; // first block of the file
  physical: number; // first block on the filesystem
  length: number;
  zero: boolean; // an unwritten extent: reads as zeroes
}

export interface Geometry {
  blockSize: number;
  blocks: number;
  firstDataBlock: number;
  inodesPerGroup: number;
  inodeSize: number;
  incompat: number;
  roCompat: number;
  journalInum: number;
  inodeTables: number[]; // first block of each group's inode table
  bitmaps: number[]; // every group's block and inode bitmap
  descriptorBlocks: number[]; // the primary group descriptors
  lastOrphan: number; // the head of the orphan list, 0 for none
}

// What the reader does not read: a precise error, or Corrupt on a state.
const refusal = (what: string, damaged: boolean) => (damaged ? new Corrupt(what) : new Error(`${what}: not read by the power-cut harness`));

export function geometry(read: Read, damaged = false): Geometry {
  const sb = read(SUPERBLOCK, 1024);
  if (sb.readUInt16LE(0x38) !== MAGIC) throw new Corrupt('no ext4 superblock');
  const blockSize = 1024 << sb.readUInt32LE(0x18);
  const incompat = sb.readUInt32LE(0x60);
  const roCompat = sb.readUInt32LE(0x64);
  if (incompat & INCOMPAT.META_BG) throw refusal('meta_bg', damaged);
  if (incompat & INCOMPAT.INLINE_DATA) throw refusal('inline_data', damaged);
  const bit64 = (incompat & INCOMPAT.BIT64) !== 0;
  const blocks = sb.readUInt32LE(0x04) + (bit64 ? sb.readUInt32LE(0x150) * 2 ** 32 : 0);
  const firstDataBlock = sb.readUInt32LE(0x14);
  const blocksPerGroup = sb.readUInt32LE(0x20);
  const inodesPerGroup = sb.readUInt32LE(0x28);
  const inodeSize = sb.readUInt32LE(0x4c) >= 1 ? sb.readUInt16LE(0x58) : 128;
  const descSize = bit64 ? sb.readUInt16LE(0xfe) : 32;
  if (blockSize > 65536 || blocksPerGroup === 0 || inodesPerGroup === 0 || inodeSize < 128 || descSize < 32) throw new Corrupt('implausible superblock');
  const groups = Math.ceil((blocks - firstDataBlock) / blocksPerGroup);
  const first = firstDataBlock + 1;
  const count = Math.ceil((groups * descSize) / blockSize);
  const gdt = read(first * blockSize, count * blockSize);
  const inodeTables: number[] = [];
  const bitmaps: number[] = [];
  const field = (d: number, lo: number, hi: number) => gdt.readUInt32LE(d + lo) + (descSize >= 64 ? gdt.readUInt32LE(d + hi) * 2 ** 32 : 0);
  for (let g = 0; g < groups; g++) {
    const d = g * descSize;
    bitmaps.push(field(d, 0, 0x20), field(d, 4, 0x24));
    inodeTables.push(field(d, 8, 0x28));
  }
  const descriptorBlocks = Array.from({ length: count }, (_, i) => first + i);
  return { blockSize, blocks, firstDataBlock, inodesPerGroup, inodeSize, incompat, roCompat, journalInum: sb.readUInt32LE(0xe0), inodeTables, bitmaps, descriptorBlocks, lastOrphan: sb.readUInt32LE(0xe8) };
}

export const S_IFMT = 0xf000;
export const S_IFDIR = 0x4000;
export const S_IFREG = 0x8000;
export const S_IFLNK = 0xa000;

export class Ext4 {
  readonly g: Geometry;
  private readonly dirs = new Map<number, Map<string, number>>();
  private readonly inodeTableBlocks = new Map<number, Buffer>();

  constructor(
    readonly read: Read,
    readonly damaged = false,
  ) {
    this.g = geometry(read, damaged);
  }

  unsupported(what: string): Error {
    return refusal(what, this.damaged);
  }

  // Where inode `ino` lives: byte offset on the filesystem.
  inodeOffset(ino: number): number {
    const { inodesPerGroup, inodeSize, inodeTables, blockSize } = this.g;
    const group = Math.floor((ino - 1) / inodesPerGroup);
    if (ino < 1 || group >= inodeTables.length) throw new Corrupt(`inode ${ino} is outside the filesystem`);
    return inodeTables[group] * blockSize + ((ino - 1) % inodesPerGroup) * inodeSize;
  }

  inodeBlock(ino: number): number {
    return Math.floor(this.inodeOffset(ino) / this.g.blockSize);
  }

  // Inodes are read a table block at a time, and kept: their neighbours
  // are asked for next.
  inode(ino: number): Buffer {
    const at = this.inodeOffset(ino);
    const bs = this.g.blockSize;
    const block = Math.floor(at / bs);
    let b = this.inodeTableBlocks.get(block);
    if (!b) this.inodeTableBlocks.set(block, (b = this.read(block * bs, bs)));
    return b.subarray(at - block * bs, at - block * bs + this.g.inodeSize);
  }

  // The file's blocks: data runs, and the extent tree's own blocks.
  map(inode: Buffer): { runs: Run[]; tree: number[] } {
    const runs: Run[] = [];
    const tree: number[] = [];
    if (!(inode.readUInt32LE(0x20) & EXTENTS_FL)) {
      // A fast symlink keeps its target in i_block; anything else without
      // extents is a block-mapped file.
      if ((inode.readUInt16LE(0) & S_IFMT) === S_IFLNK && size(inode) < 60) return { runs, tree };
      if (size(inode) === 0) return { runs, tree };
      throw this.unsupported('a block-mapped (non-extent) inode');
    }
    const walk = (node: Buffer, depth: number) => {
      if (node.readUInt16LE(0) !== EXTENT_MAGIC) throw new Corrupt('bad extent header');
      const entries = node.readUInt16LE(2);
      if (node.readUInt16LE(6) !== depth || 12 + entries * 12 > node.length) throw new Corrupt('bad extent header');
      for (let i = 0; i < entries; i++) {
        const e = 12 + i * 12;
        if (depth === 0) {
          const len = node.readUInt16LE(e + 4);
          const physical = node.readUInt32LE(e + 8) + node.readUInt16LE(e + 6) * 2 ** 32;
          runs.push({ logical: node.readUInt32LE(e), physical, length: len > 32768 ? len - 32768 : len, zero: len > 32768 });
        } else {
          const child = node.readUInt32LE(e + 4) + node.readUInt16LE(e + 8) * 2 ** 32;
          if (child >= this.g.blocks) throw new Corrupt('extent index beyond the filesystem');
          tree.push(child);
          walk(this.read(child * this.g.blockSize, this.g.blockSize), depth - 1);
        }
      }
    };
    const root = inode.subarray(0x28, 0x28 + 60);
    const depth = root.readUInt16LE(6);
    if (depth > 5) throw new Corrupt('bad extent depth');
    walk(root, depth);
    for (const r of runs) if (r.physical + r.length > this.g.blocks) throw new Corrupt('extent beyond the filesystem');
    return { runs, tree };
  }

  data(inode: Buffer): Buffer {
    const bytes = size(inode);
    if (bytes > 1 << 30) throw new Corrupt(`implausible file size ${bytes}`);
    const out = Buffer.alloc(bytes);
    const bs = this.g.blockSize;
    for (const r of this.map(inode).runs) {
      const from = r.logical * bs;
      if (r.zero || from >= bytes) continue;
      const length = Math.min(r.length * bs, bytes - from);
      this.read(r.physical * bs, length).copy(out, from);
    }
    return out;
  }

  entries(dirIno: number): Map<string, number> {
    const known = this.dirs.get(dirIno);
    if (known) return known;
    const inode = this.inode(dirIno);
    if ((inode.readUInt16LE(0) & S_IFMT) !== S_IFDIR) throw new Corrupt(`inode ${dirIno} is not a directory`);
    const data = this.data(inode);
    const out = new Map<string, number>();
    // Linear entries; an htree's index blocks read as one empty entry each.
    for (let block = 0; block < data.length; block += this.g.blockSize) {
      let at = block;
      while (at + 8 <= block + this.g.blockSize) {
        const ino = data.readUInt32LE(at);
        const recLen = data.readUInt16LE(at + 4);
        const nameLen = data[at + 6];
        if (recLen < 8 || at + recLen > block + this.g.blockSize || nameLen + 8 > recLen) throw new Corrupt(`bad directory entry in inode ${dirIno}`);
        if (ino !== 0) out.set(data.toString('latin1', at + 8, at + 8 + nameLen), ino);
        at += recLen;
      }
    }
    this.dirs.set(dirIno, out);
    return out;
  }

  symlinkTarget(inode: Buffer): string {
    const bytes = size(inode);
    if (!(inode.readUInt32LE(0x20) & EXTENTS_FL) && bytes < 60) return inode.toString('latin1', 0x28, 0x28 + bytes);
    return this.data(inode).toString('latin1');
  }

  // Resolves `path` from the root as open(2) would, following symlinks.
  // `steps` gets every directory entry read and every symlink followed on
  // the way: what the answer depends on.
  resolve(path: string, steps: Step[] = []): number | null {
    let parts = path.split('/').filter((p) => p && p !== '.');
    const at: number[] = [ROOT_INO]; // the directories walked, root first
    for (let hops = 0; parts.length > 0; ) {
      const name = parts.shift() as string;
      if (name === '..') {
        if (at.length > 1) at.pop();
        continue;
      }
      const dir = at[at.length - 1];
      steps.push({ dir, name });
      const ino = this.entries(dir).get(name);
      if (ino === undefined) return null;
      const inode = this.inode(ino);
      const type = inode.readUInt16LE(0) & S_IFMT;
      if (type === S_IFLNK) {
        if (++hops > 40) throw new Corrupt(`too many symlinks resolving ${path}`);
        steps.push({ symlink: ino });
        const target = this.symlinkTarget(inode);
        if (target.startsWith('/')) at.splice(1);
        parts = [...target.split('/').filter((p) => p && p !== '.'), ...parts];
        continue;
      }
      if (parts.length === 0) return ino;
      if (type !== S_IFDIR) return null;
      at.push(ino);
    }
    return at[at.length - 1];
  }
}

export type Step = { dir: number; name: string } | { symlink: number };

export function size(inode: Buffer): number {
  return inode.readUInt32LE(4) + inode.readUInt32LE(0x6c) * 2 ** 32;
}

export function fileType(inode: Buffer): number {
  return inode.readUInt16LE(0) & S_IFMT;
}
