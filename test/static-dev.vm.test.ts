import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Guest } from '../board/guest';
import { hardwareOf } from '../board/qemu';
import { requireBoard } from '../init/flash/load-board';

// The static-/dev board (board/qemu-static-dev.conf): sysvinit, no udev
// once the root is up, the device nodes on the read-only root. chown/chmod
// of the login tty fail there with EROFS, and the serial-console login must
// still work, through roroot's /bin/login wrapper and its EROFS shim, and
// the network comes up in the initramfs as on every board. One boot of a
// qcow2 overlay; the image is never written.

const t = suite('static /dev board (QEMU, sysvinit, serial console)');
const IMAGE = resolve(__dirname, '../../build/image/qemu-static-dev.img');
const board = requireBoard(resolve(__dirname, '../../board/qemu-static-dev.conf'));
let dir: string;

t.before(() => {
  if (!existsSync(IMAGE)) throw new Error(`${IMAGE} is missing: make build/image/qemu-static-dev.img`);
  dir = mkdtempSync(join(tmpdir(), 'roroot-vm-'));
});
t.after(() => rmSync(dir, { recursive: true, force: true }));

t('a serial-console login on a read-only static /dev, through the EROFS shim; the network up from the initramfs', async () => {
  const disk = join(dir, 'static-dev.qcow2');
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', IMAGE, '-F', 'raw', disk]);
  const g = Guest.boot({ disk, format: 'qcow2', hardware: hardwareOf(board), memMiB: 256, nfsPort: null });
  try {
    await g.login('root', 'roroot', 360);
    assert.match(g.console, /INIT: version/, 'sysvinit is the init');
    assert.match(g.console, /roroot: plan: \/dev: static device nodes on the root \(DEVTMPFS=no\)/);
    assert.not.match(g.console, /returned failure|failed!/, 'no rc script failed');
    // Shadow's login tolerates EROFS itself but says so; with the shim the
    // chown/chmod succeed as far as it can tell, so it says nothing.
    assert.not.match(g.console, /Unable to change owner or mode of tty/);
    // The initramfs's hook found the NIC by itself (ip=dhcp names none) and
    // its address is still there under sysvinit, which configures no network.
    const nic = /IP-Config: (\w+) complete/.exec(g.console)?.[1];
    assert.ok(nic, 'DHCP in the initramfs');
    assert.not.match(g.console, /Network device did not appear|no network before the boot stage/);
    assert.match((await g.sh(`ip -4 -o addr show dev ${nic}`)).out, / inet 10\.0\.2\.15\/24 /);

    // /dev is the root's own directory, and the tty really is read-only.
    assert.is.not((await g.sh('findmnt /dev')).code, 0, '/dev is not a mount');
    assert.equal((await g.sh('stat -c "%t:%T %a %G" /dev/ttyS0')).out, '4:40 620 tty\n');
    const chown = await g.sh('chown root:tty /dev/ttyS0 2>&1');
    assert.is.not(chown.code, 0);
    assert.match(chown.out, /Read-only file system/);
    // The image builder's static node for the disk matches the kernel's.
    const dev = await g.sh('cat /sys/block/vda/dev; stat -c "%t %T" /dev/vda');
    const [sys, node] = dev.out.trim().split('\n');
    const [major, minor] = node.split(' ').map((h) => parseInt(h, 16));
    assert.is(sys, `${major}:${minor}`);
    // Ptys still work: the static /dev/ptmx with the devpts roroot mounted.
    assert.match((await g.sh(`python3 -c 'import os; m, s = os.openpty(); print(os.ttyname(s))'`)).out, /^\/dev\/pts\/\d+\n$/);

    // The login that ran is the wrapper's, and the session did not inherit
    // the preload.
    assert.equal((await g.sh('readlink /bin/login')).out, '/usr/lib/roroot/login\n');
    assert.is((await g.sh('test -x /bin/login.roroot-real')).code, 0);
    assert.equal((await g.sh('env | grep -c LD_PRELOAD')).out, '0\n');
    assert.equal((await g.sh('findmnt -n -o OPTIONS / | cut -d, -f1')).out, 'ro\n');
    await g.poweroff();
  } finally {
    g.kill();
  }
});

t.run();
