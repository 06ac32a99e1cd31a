import { readFileSync, realpathSync } from 'node:fs';
import { basename } from 'node:path';
import type { Mount, RootErrors } from '../plan/facts';
import { hostPath } from './root-path';

// What ext4 has recorded against the filesystem mounted at /: its error
// count as the kernel keeps it (/sys/fs/ext4/DEV/errors_count: the
// superblock's s_error_count at mount, and every error since). Nothing
// checks a roroot root at boot (fstab pass 0: a boot-time e2fsck writes
// the root outside any window), so the boot stage says it instead, at
// every boot until someone checks the root. The sysfs name is the block
// device's, found from the mount's major:minor (/dev/root in mountinfo
// names nothing). `m`: the mount / is now (mountAt: the last one there).
export function probeRootErrors(root: string, m: Mount | undefined): RootErrors | null {
  if (!m || m.fstype !== 'ext4') return null;
  try {
    const name = basename(realpathSync(hostPath(root, `/sys/dev/block/${m.device}`)));
    const count = Number(readFileSync(hostPath(root, `/sys/fs/ext4/${name}/errors_count`), 'utf8').trim());
    return Number.isInteger(count) ? { device: `/dev/${name}`, count } : null;
  } catch {
    return null; // no sysfs yet, or a kernel without the file: not known
  }
}
