import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LoopDisk } from '../support/loop-disk';
import { buildTree, RW, usrMountSh } from '../support/system-tree';

// `make demo` until the router image exists: the boot stage, for real, on a
// disk image attached to a loop device, in private namespaces. Two boots, so
// that you see the scratch re-made; then `roroot status` and `roroot plan`.

const bundle = resolve(__dirname, '../../dist/roroot.js');
const dir = mkdtempSync(join(tmpdir(), 'roroot-demo-'));
const tree = join(dir, 'tree');
const disk = LoopDisk.create(join(dir, 'disk.img'), 80, [4, 64]);
try {
  buildTree(tree, { conf: `# demo router\nRW_DEVICE=PARTUUID=${disk.partuuid(2)}\nVOLATILE="/tmp /var/log /var/spool/lpd"\n`, rwtab: 'files /etc/resolv.conf\ndirs /var/cache/man\n' });
  const say = (text: string) => `printf '\\n\\033[1m== %s\\033[0m\\n' "${text}"`;
  const script = `
set -eu
${say(`a router root at ${tree}, read-only; scratch partition ${disk.partition(2)}`)}
mount --bind ${tree} ${tree}; mount -o remount,bind,ro ${tree}
${usrMountSh(tree)}
${say('roroot plan')}
node ${bundle} plan --root ${tree} --cmdline 'ro quiet'
${say('boot 1')}
node ${bundle} boot --root ${tree} --cmdline 'ro quiet' --kmsg none --no-background
chroot ${tree} /bin/sh -c 'echo "written after boot 1" > /tmp/note; ls -l /tmp/note'
umount -R ${tree}${RW} ${tree}/etc/resolv.conf ${tree}/var/cache/man ${tree}/proc ${tree}/sys ${tree}/dev
${say('boot 2: the scratch is re-made, /tmp/note is gone')}
node ${bundle} boot --root ${tree} --cmdline 'ro quiet' --kmsg none --no-background
chroot ${tree} /bin/sh -c 'ls -la /tmp/; touch /etc/x' || true
${say('roroot status')}
node ${bundle} status --root ${tree}
`;
  process.stdout.write('make demo: the reference router image and its QEMU boot are not built yet;\nthis runs the roroot boot stage on a loop device instead.\n');
  const r = spawnSync('unshare', ['--mount', '--uts', '--net', '--propagation', 'private', '--', 'sh', '-c', script], { stdio: 'inherit' });
  process.exitCode = r.status ?? 1;
} finally {
  disk.detach();
  rmSync(dir, { recursive: true, force: true });
}
