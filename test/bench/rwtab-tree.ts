import { existsSync, lstatSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { RwtabEntry } from '../../init/config/rwtab';

// The rwtab workload of `make bench`: every path of Fedora's stock rwtab
// present in a system tree as on a Fedora machine that has those packages,
// so that neither contender can skip one as missing. A `dirs` entry is a
// small tree of subdirectories and files (only its directories are copied),
// an `empty` entry a directory with content (none of it copied), a `files`
// entry a file, or a small tree when the package keeps a directory there
// (/var/lib/NetworkManager, /etc/lvm/cache, ...).

// rwtab `files` entries that are single files on Fedora.
const SINGLE_FILES = new Set(['adjtime', 'ntp.conf', 'resolv.conf', 'logrotate.status', 'localtime', 'random-seed', 'audit.log']);

export function populateRwtab(tree: string, entries: RwtabEntry[]): { files: number; dirs: number } {
  let files = 0;
  let dirs = 0;
  const dir = (p: string) => {
    if (!existsSync(p)) {
      mkdirSync(p, { recursive: true });
      dirs++;
    }
  };
  const file = (p: string, text: string) => {
    dir(dirname(p));
    writeFileSync(p, text);
    files++;
  };
  // Two levels of subdirectories with a few small files in each.
  const smallTree = (p: string) => {
    dir(p);
    for (const sub of ['a', 'b', 'c']) {
      dir(join(p, sub));
      dir(join(p, sub, 'inner'));
      for (const n of [1, 2]) file(join(p, sub, `f${n}`), `${sub}/${n}: ${'x'.repeat(200)}\n`);
      file(join(p, sub, 'inner', 'g'), 'inner\n');
    }
    file(join(p, 'top'), 'top\n');
  };
  for (const e of entries) {
    const p = join(tree, e.path);
    if (e.mode === 'files' && SINGLE_FILES.has(basename(e.path))) {
      const st = existsSync(p) ? lstatSync(p) : null;
      if (st && !st.isFile()) rmSync(p, { recursive: true, force: true });
      if (!st?.isFile()) file(p, `${e.path}\n`);
    } else smallTree(p);
  }
  return { files, dirs };
}
