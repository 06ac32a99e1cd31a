import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

// A small router root filesystem as `roroot install` leaves it: a master
// copy holding every kind of file a restore must keep (modes, owners, a
// setuid binary, symlinks, a device node, a fifo, empty dirs), the volatile
// symlinks into the scratch mount, and the places Fedora's rwtab names.

export const RW = '/var/lib/roroot/volatile';
export const MASTER = '/var/lib/roroot/volatile.ini';

export interface TreeOptions {
  conf: string;
  rwtab?: string;
  fstab?: string;
}

export function buildTree(root: string, opts: TreeOptions) {
  const at = (p: string) => join(root, p);
  const dir = (p: string, mode = 0o755, owner = [0, 0]) => {
    mkdirSync(at(p), { recursive: true });
    chownSync(at(p), owner[0], owner[1]);
    chmodSync(at(p), mode);
  };
  const file = (p: string, text: string, mode = 0o644, owner = [0, 0]) => {
    mkdirSync(dirname(at(p)), { recursive: true });
    writeFileSync(at(p), text);
    chownSync(at(p), owner[0], owner[1]);
    chmodSync(at(p), mode);
  };
  for (const d of ['proc', 'sys', 'dev', 'run', 'etc', 'usr', 'var/lib/roroot/state', 'var/lib/roroot/remote', RW.slice(1)]) dir(d);
  // The host's /usr is bind-mounted here in the test's namespace, so that
  // commands can run chrooted in the tree (merged /usr, as Debian 12).
  for (const d of ['bin', 'sbin', 'lib', 'lib64']) symlinkSync(`usr/${d}`, at(d));
  symlinkSync('/proc/mounts', at('etc/mtab'));
  file('etc/machine-id', ''); // as an image ships it: empty, never baked
  // blkid sees every block device of this machine: the defaults
  // (roroot-rw, roroot-state) could find another engineer's image on a
  // loop device. A tree looks for a label only when its test says which.
  const labels = ['RW_LABEL', 'STATE_LABEL'].filter((k) => !new RegExp(`^${k}=`, 'm').test(opts.conf)).map((k) => `${k}=\n`);
  file('etc/roroot.conf', opts.conf.replace(/\n?$/, '\n') + labels.join(''));
  if (opts.rwtab) file('etc/rwtab', opts.rwtab);
  if (opts.fstab) file('etc/fstab', opts.fstab);

  // The master copy.
  const m = (p: string) => `${MASTER.slice(1)}/${p}`;
  dir(MASTER.slice(1));
  dir(m('tmp'), 0o1777);
  dir(m('var/log'));
  file(m('var/log/syslog'), 'master syslog line\n', 0o640, [0, 4]);
  dir(m('var/log/private'), 0o700, [1000, 1000]);
  file(m('var/log/private/secret'), 's3cret\n', 0o600, [1000, 1000]);
  symlinkSync('/run', at(m('var/run')));
  dir(m('var/spool/lpd'), 0o775, [7, 7]);
  dir(m('var/lib/chroot/dev'));
  execFileSync('mknod', ['-m', '0666', at(m('var/lib/chroot/dev/null')), 'c', '1', '3']);
  execFileSync('mkfifo', ['-m', '0620', at(m('var/lib/initctl'))]);
  file(m('usr/bin/suid-helper'), '#!/bin/sh\n', 0o4755);

  // Seed 004: the volatile places are symlinks into the scratch mount.
  dir('var/spool');
  symlinkSync(`${RW}/tmp`, at('tmp'));
  symlinkSync(`${RW}/var/log`, at('var/log'));
  symlinkSync(`${RW}/var/spool/lpd`, at('var/spool/lpd'));

  // Seed 000: places an rwtab can name.
  file('var/cache/man/man1/ls.1.gz', 'manpage\n');
  dir('var/cache/man/cat1', 0o2755, [6, 12]);
  file('var/lib/dhclient/old.lease', 'lease\n');
  file('etc/resolv.conf', 'nameserver 192.0.2.53\n');
  file('var/lib/nfs/etab', 'etab\n', 0o600);
  dir('var/lib/nfs/sm', 0o700, [0, 0]);
}

// Shell that makes the tree runnable with chroot: the host's /usr, read-only;
// `extra`: a directory laid over it (an overlay with lower layers only,
// itself read-only), for programs a test gives the tree and the host has not.
export function usrMountSh(root: string, extra?: string): string {
  if (extra) return `mount -t overlay overlay -o lowerdir=${extra}:/usr ${root}/usr`;
  return `mount --bind /usr ${root}/usr; mount -o remount,bind,ro ${root}/usr`;
}

// Shell listing every file under the current directory but `excluded` (find
// -path patterns) as "path|type|mode|owner|size|link", sizes only for files
// and links (directory sizes differ between ext4 and tmpfs), unsorted: the
// caller pipes it into its sort. What install/uninstall and the scratch
// restore are compared by.
export function listingPipeline(excluded: string[] = []): string {
  const skip = excluded.map((p) => `! -path '${p}'`).join(' ');
  return `find . -mindepth 1 ${skip} -printf '%P|%y|%m|%U:%G|%s|%l\\n' | awk -F'|' 'BEGIN{OFS="|"} $2=="d"{$5=""} {print}'`;
}

// listing DIR, as a shell function to run inside the test's namespace.
export const LISTING_SH = `listing() { (cd "$1" && ${listingPipeline(['./lost+found', './lost+found/*', './.roroot', './.roroot/*'])} | sort); }`;
