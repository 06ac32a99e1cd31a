import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { LoopDisk } from './loop-disk';
import { inNamespace, sections, type ShellResult } from './namespace';
import { LISTING_SH, usrMountSh } from './system-tree';

// A router on this machine for the boot stage's system tests: a system
// tree under a temp dir (its root bind-mounted read-only, as on the
// router) and a disk image on a loop device. Each boot runs the bundled
// dist/roroot.js for real, as root, in fresh private namespaces.

// Found from wherever the bundled test file lies (build/test/...).
function repoRoot(): string {
  let d = __dirname;
  while (!existsSync(join(d, 'package.json'))) d = dirname(d);
  return d;
}
export const BUNDLE = join(repoRoot(), 'dist/roroot.js');

export class Router {
  readonly dir: string;
  readonly tree: string;
  readonly disk: LoopDisk;
  // Labels of this test's own: blkid sees every block device of this
  // machine, and another engineer's image on a loop device carries
  // roroot-rw too; a test that looked for that label could find it.
  readonly rwLabel = `rt${Math.random().toString(36).slice(2, 7)}-rw`;
  readonly stateLabel = this.rwLabel.replace(/-rw$/, '-st');

  constructor(name: string, diskMiB: number, partitionsMiB: number[]) {
    this.dir = mkdtempSync(join(tmpdir(), `roroot-${name}-`));
    this.tree = join(this.dir, 'tree');
    this.disk = LoopDisk.create(join(this.dir, 'disk.img'), diskMiB, partitionsMiB);
  }

  close() {
    this.disk.detach();
    rmSync(this.dir, { recursive: true, force: true });
  }

  // One boot in a fresh namespace: `before` and `after` (shell) around it,
  // in the same namespace. Sections: boot, rc, mounts (system paths), and
  // whatever `after` prints under "=== name" lines. `inside CMD` runs CMD
  // chrooted in the tree; kernel log lines go to DIR/kmsg.
  // `usr`: a directory laid over the tree's /usr (usrMountSh).
  boot(opts: { cmdline?: string; readOnlyRoot?: boolean; after?: string; before?: string; env?: string; usr?: string } = {}): ShellResult & { s: Record<string, string> } {
    const { tree, dir } = this;
    const ro = opts.readOnlyRoot === false ? '' : `mount --bind ${tree} ${tree}; mount -o remount,bind,ro ${tree}`;
    const r = inNamespace(`
${LISTING_SH}
: > ${dir}/kmsg
${opts.before ?? ''}
${ro}
${usrMountSh(tree, opts.usr)}
inside() { chroot ${tree} /bin/sh -c "$1"; }
echo "=== boot"
rc=0; ${opts.env ?? ''} node ${BUNDLE} boot --root ${tree} --cmdline '${opts.cmdline ?? 'ro quiet'}' --kmsg ${dir}/kmsg --no-background || rc=$?
echo "=== rc"; echo $rc
echo "=== mounts"; findmnt -rn -o TARGET,FSTYPE,SOURCE,OPTIONS | awk -v t=${tree} 'index($1, t) == 1 && $1 != t "/usr" { for (i = 1; i <= NF; i++) { if (index($i, t) == 1) $i = substr($i, length(t) + 1); if ($i == "") $i = "/" } print }'
${opts.after ?? ''}
`);
    if (process.env.DEBUG_BOOT) console.log(r.stdout, r.stderr);
    return { ...r, s: sections(r.stdout) };
  }
}

export const lines = (text: string | undefined) => (text ?? '').split('\n').filter(Boolean);
// [target, fstype, source, options]
export const mountsOf = (s: Record<string, string>) => lines(s.mounts).map((l) => l.split(' '));
