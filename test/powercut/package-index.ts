import { contentPath, installed, parseDiversions, parseMd5sums, parseStatus, type Stanza } from './dpkg-db';
import { Corrupt, fileType, S_IFDIR, S_IFLNK, S_IFREG, type Ext4 } from './ext4';

// Which installed files a crash state can have changed, without reading
// them all: every file dpkg --verify checks (a hash in info/*.md5sums or a
// conffile), indexed on the pristine root by the blocks its content depends
// on — its data and extent tree, its inode, and the directory entries and
// symlinks its path goes through. A state that changed none of those
// blocks left the file as flashed; for one that did, the inode, entry or
// link is compared, and only a file that may differ is handed to dpkg.

export const ADMIN = '/var/lib/dpkg';

export interface Watched {
  pkg: string; // as info/ names it (libc6:amd64); '' for the database's own files
  path: string; // as the package lists it
  at: string; // where dpkg --verify reads it: a diversion may move it
  hash: string;
  conffile: boolean;
}

export interface Affected {
  files: Set<number>; // indexes into PackageIndex.files
  database: boolean; // a file or directory of /var/lib/dpkg may have changed
  broken: string | null; // the filesystem's geometry itself changed
}

// An inode's bytes that decide what reading it gives: mode, size, flags,
// the extent root (times and checksums left out).
const CONTENT_FIELDS: [number, number][] = [[0, 2], [4, 4], [0x20, 4], [0x28, 60], [0x6c, 4]];

export class PackageIndex {
  readonly files: Watched[] = [];
  readonly stanzas: Map<string, Stanza>;
  readonly diversions: string;
  private readonly dataUsers = new Map<number, number[]>(); // data or extent-tree block -> files
  private readonly inodeBlocks = new Map<number, Set<number>>(); // inode-table block -> inodes of interest
  private readonly dirBlocks = new Map<number, Set<number>>(); // directory block -> directories
  private readonly entryUsers = new Map<number, Map<string, number[]>>(); // directory -> name -> files
  private readonly linkUsers = new Map<number, number[]>(); // symlink -> files
  private readonly inodeUsers = new Map<number, number[]>(); // what a path found -> files
  private readonly noted = new Set<number>(); // directories and symlinks registered

  constructor(readonly pristine: Ext4) {
    const db = readDatabase(pristine);
    this.stanzas = db.stanzas;
    this.diversions = db.diversions;
    const divs = parseDiversions(db.diversions);
    for (const s of this.stanzas.values()) {
      if (!installed(s)) continue;
      const seen = new Set<string>();
      for (const c of s.conffiles) {
        seen.add(c.path);
        this.files.push({ pkg: s.name, path: c.path, at: contentPath(c.path, s.name, divs), hash: c.hash, conffile: true });
      }
      for (const f of md5sumsOf(pristine, s.name)) if (!seen.has(f.path)) this.files.push({ pkg: s.name, path: f.path, at: contentPath(f.path, s.name, divs), hash: f.hash, conffile: false });
    }
    // The database's own files and directories, as files of no package.
    for (const path of db.paths) this.files.push({ pkg: '', path, at: path, hash: '', conffile: false });
    this.files.forEach((f, id) => this.watch(f.at, id));
  }

  // Registers what resolving `path` reads, and the file it finds.
  private watch(path: string, id: number) {
    const fs = this.pristine;
    const steps: Parameters<Ext4['resolve']>[1] = [];
    let ino: number | null;
    try {
      ino = fs.resolve(path, steps);
    } catch (err) {
      if (!(err instanceof Corrupt)) throw err;
      ino = null;
    }
    for (const s of steps) {
      if ('name' in s) {
        this.note(s.dir);
        push(nested(this.entryUsers, s.dir), s.name, id);
      } else {
        this.note(s.symlink);
        push(this.linkUsers, s.symlink, id);
      }
    }
    if (ino === null) return;
    add(this.inodeBlocks, fs.inodeBlock(ino), ino);
    push(this.inodeUsers, ino, id);
    for (const b of blocksOf(fs, ino)) push(this.dataUsers, b, id);
  }

  // A directory or symlink on a path: its inode and blocks. A change there
  // is judged by comparing entries or targets.
  private note(ino: number) {
    if (this.noted.has(ino)) return;
    this.noted.add(ino);
    add(this.inodeBlocks, this.pristine.inodeBlock(ino), ino);
    for (const b of blocksOf(this.pristine, ino)) add(this.dirBlocks, b, ino);
  }

  affected(state: Ext4, changedBlocks: Iterable<number>): Affected {
    const files = new Set<number>();
    const p = this.pristine;
    const g0 = p.g;
    const g1 = state.g;
    if (g0.blockSize !== g1.blockSize || g0.inodesPerGroup !== g1.inodesPerGroup || g0.inodeSize !== g1.inodeSize || g0.inodeTables.some((t, i) => g1.inodeTables[i] !== t)) {
      return { files, database: true, broken: 'the superblock or group descriptors moved the inode tables' };
    }
    const inodes = new Set<number>();
    const dirs = new Set<number>();
    for (const b of changedBlocks) {
      for (const id of this.dataUsers.get(b) ?? []) files.add(id);
      for (const ino of this.inodeBlocks.get(b) ?? []) inodes.add(ino);
      for (const ino of this.dirBlocks.get(b) ?? []) dirs.add(ino);
    }
    for (const ino of inodes) {
      const before = p.inode(ino);
      const after = state.inode(ino);
      if (CONTENT_FIELDS.every(([at, n]) => before.subarray(at, at + n).equals(after.subarray(at, at + n)))) continue;
      const type = fileType(before);
      if (type === S_IFDIR || type === S_IFLNK) dirs.add(ino);
      for (const id of this.inodeUsers.get(ino) ?? []) files.add(id);
    }
    for (const ino of dirs) {
      const type = fileType(p.inode(ino));
      if (type === S_IFLNK) {
        if (!sameTarget(p, state, ino)) for (const id of this.linkUsers.get(ino) ?? []) files.add(id);
        continue;
      }
      const users = this.entryUsers.get(ino) ?? new Map<string, number[]>();
      let now: Map<string, number> | null;
      try {
        now = fileType(state.inode(ino)) === S_IFDIR ? state.entries(ino) : null;
      } catch (err) {
        if (!(err instanceof Corrupt)) throw err;
        now = null;
      }
      const then = p.entries(ino);
      for (const [name, ids] of users) if (!now || now.get(name) !== then.get(name)) for (const id of ids) files.add(id);
    }
    const database = [...files].some((id) => this.files[id].pkg === '');
    for (const id of files) if (this.files[id].pkg === '') files.delete(id);
    return { files, database, broken: null };
  }
}

function sameTarget(a: Ext4, b: Ext4, ino: number): boolean {
  try {
    const after = b.inode(ino);
    return fileType(after) === S_IFLNK && a.symlinkTarget(a.inode(ino)) === b.symlinkTarget(after);
  } catch (err) {
    if (err instanceof Corrupt) return false;
    throw err;
  }
}

function blocksOf(fs: Ext4, ino: number): number[] {
  const { runs, tree } = fs.map(fs.inode(ino));
  const out = [...tree];
  for (const r of runs) for (let i = 0; i < r.length; i++) out.push(r.physical + i);
  return out;
}

// The database as a root has it: stanzas (status, then updates/, as dpkg
// reads them), diversions, the names in info/, and every path under
// /var/lib/dpkg that dpkg reads. `text` is all of it that decides an audit.
export interface Database {
  stanzas: Map<string, Stanza>;
  diversions: string;
  info: string[];
  paths: string[];
  text: string;
}

export function readDatabase(fs: Ext4): Database {
  const names = (dir: string) => {
    const ino = fs.resolve(dir);
    return ino === null ? [] : [...fs.entries(ino).keys()].filter((n) => n !== '.' && n !== '..').sort();
  };
  const status = textOf(fs, `${ADMIN}/status`);
  if (status === null) throw new Corrupt(`${ADMIN}/status is missing`);
  const updates = names(`${ADMIN}/updates`).filter((n) => /^\d+$/.test(n));
  const texts = [status, ...updates.map((n) => textOf(fs, `${ADMIN}/updates/${n}`) ?? '')];
  const info = names(`${ADMIN}/info`);
  const diversions = textOf(fs, `${ADMIN}/diversions`) ?? '';
  const paths = [`${ADMIN}/status`, `${ADMIN}/diversions`, `${ADMIN}/updates`, `${ADMIN}/info`, ...updates.map((n) => `${ADMIN}/updates/${n}`), ...info.map((n) => `${ADMIN}/info/${n}`)];
  return { stanzas: parseStatus(texts), diversions, info, paths, text: [...texts, diversions, info.join('\n')].join('\0') };
}

// A package's info/NAME.md5sums.
export function md5sumsOf(fs: Ext4, name: string): { path: string; hash: string }[] {
  return parseMd5sums(textOf(fs, `${ADMIN}/info/${name}.md5sums`) ?? '');
}

// A regular file's text, or null when the path leads to none.
export function textOf(fs: Ext4, path: string): string | null {
  const ino = fs.resolve(path);
  return ino === null || fileType(fs.inode(ino)) !== S_IFREG ? null : fs.data(fs.inode(ino)).toString('utf8');
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V) {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

function nested<K, K2, V>(m: Map<K, Map<K2, V>>, k: K): Map<K2, V> {
  let inner = m.get(k);
  if (!inner) m.set(k, (inner = new Map()));
  return inner;
}

function add<K, V>(m: Map<K, Set<V>>, k: K, v: V) {
  const set = m.get(k);
  if (set) set.add(v);
  else m.set(k, new Set([v]));
}
