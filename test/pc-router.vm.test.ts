import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Guest } from '../board/guest';
import { NfsServer } from '../board/nfs-server';
import { hardwareOf } from '../board/qemu';
import { requireBoard } from '../init/flash/load-board';

// The seed's router (board/pc-router.conf) on its own hardware model: an
// IDE disk (/dev/sda, ata_piix), an e1000 NIC that udev renames from eth0,
// its NFS REMOTE at 192.168.1.1, which QEMU forwards (and nothing else) to
// the test's server on 127.0.0.1. One boot of a qcow2 overlay, everything
// checked in it; the image is never written.

const t = suite('pc-router (QEMU: IDE disk, e1000, REMOTE at 192.168.1.1)');
const repo = resolve(__dirname, '../..');
const IMAGE = join(repo, 'build/image/pc-router.img');
const board = requireBoard(join(repo, 'board/pc-router.conf'));
let dir: string;
let nfs: NfsServer;

t.before(async () => {
  if (!existsSync(IMAGE)) throw new Error(`${IMAGE} is missing: make ${IMAGE}`);
  dir = mkdtempSync(join(tmpdir(), 'roroot-vm-'));
  nfs = await NfsServer.start(join(dir, 'nfs'));
  mkdirSync(nfs.hostPath(board.remote as string), { recursive: true });
});
t.after(async () => {
  await nfs.stop();
  rmSync(dir, { recursive: true, force: true });
});

const json = <T>(text: string): T => JSON.parse(text.slice(text.indexOf('{'))) as T;

t('boots to login with a network whatever udev names the NIC; root on sda1, scratch, swap, REMOTE, modules as built', async () => {
  const disk = join(dir, 'pc-router.qcow2');
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', IMAGE, '-F', 'raw', disk]);
  const g = Guest.boot({ disk, format: 'qcow2', hardware: hardwareOf(board), memMiB: 256, nfsPort: nfs.port });
  try {
    await g.login();
    // udev gave the NIC a name of its own; the initramfs took that one.
    const renamed = /e1000 \S+ (\w+): renamed from eth0/.exec((await g.sh('dmesg')).out);
    assert.ok(renamed, 'udev renamed eth0');
    const nic = renamed[1];
    // initramfs-tools says "Waiting up to 180 secs" even when it waits not at all.
    assert.match(g.console, `Waiting up to 180 secs for ${nic} to become available ... done.`);
    assert.match(g.console, new RegExp(`IP-Config: ${nic} complete`));
    assert.not.match(g.console, /SIOCGIFINDEX|Network device did not appear|no network before the boot stage/);
    assert.is((await g.sh(`basename $(readlink /sys/class/net/${nic}/device/driver)`)).out, 'e1000\n');
    assert.is((await g.sh('hostname')).out, 'ip-192-168-1-15\n', 'named from its DHCP address');

    // The disk is the IDE one, through ata_piix.
    assert.is((await g.sh('findmnt -n -o SOURCE,OPTIONS / | cut -d, -f1')).out, '/dev/sda1 ro\n');
    assert.is((await g.sh('p=$(readlink -f /sys/block/sda/device); basename $(readlink ${p%%/ata*}/driver)')).out, 'ata_piix\n');
    assert.is((await g.sh('findmnt -n -o SOURCE,FSTYPE /var/lib/roroot/volatile')).out, '/dev/sda2 ext2\n');
    assert.is((await g.sh('swapon --show=NAME --noheadings')).out, '/dev/sda3\n');

    // REMOTE is the test's server, and PERSISTENT lands there.
    const st = json<{ stores: { name: string; mounted: boolean; source: string }[] }>((await g.sh('roroot status --json')).out);
    const remote = st.stores.find((s) => s.name === 'remote');
    assert.ok(remote?.mounted && remote.source === board.remote, JSON.stringify(remote));
    assert.is((await g.sh('echo peers > /var/lib/ppp/kept && sync')).code, 0);
    assert.is(readFileSync(join(nfs.hostPath(board.remote as string), 'var/lib/ppp/kept'), 'utf8'), 'peers\n');

    // modules.dep came current with the image, and has the board's extra
    // directory (a watchdog driver that loads without its hardware).
    assert.match((await g.sh('dmesg | grep "roroot: modules:"')).out, /modules\.dep is current, no window/);
    assert.is((await g.sh('modprobe i6300esb && grep -c "^i6300esb " /proc/modules')).out, '1\n');
    await g.poweroff();
  } finally {
    g.kill();
  }
});

t.run();
