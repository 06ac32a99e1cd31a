import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { NfsServer } from '../board/nfs-server';
import { Guest } from '../board/guest';
import { testPackage } from './support/test-package';

// The read-write windows in the reference router: three boots of one
// qcow2 overlay of the shared image. A package reaches the guest through
// its NFS export (the only way in: the guest has no other network).

const t = suite('rw windows (QEMU)');
const IMAGE = resolve(__dirname, '../../build/image/qemu-x86_64.img');
const REMOTE = '/var/lib/roroot/remote'; // where the guest mounts the export
let dir: string;
let nfs: NfsServer;

t.before(async () => {
  if (!existsSync(IMAGE)) throw new Error(`${IMAGE} is missing: make image`);
  dir = mkdtempSync(join(tmpdir(), 'roroot-rwvm-'));
  nfs = await NfsServer.start(join(dir, 'nfs'));
});
t.after(async () => {
  await nfs.stop();
  rmSync(dir, { recursive: true, force: true });
});

const boot = () => Guest.boot({ disk: join(dir, 'rw.qcow2'), format: 'qcow2', memMiB: 256, nfsPort: nfs.port });
const rootMode = async (g: Guest) => (await g.sh('findmnt -n -o OPTIONS / | cut -d, -f1')).out.trim();

t('modules.dep: a window only when stale; roroot rw -- dpkg -i installs and leaves / read-only; a killed rw ends read-only', async () => {
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', IMAGE, '-F', 'raw', join(dir, 'rw.qcow2')]);
  testPackage(dir, 'roroot-vmtest', join(nfs.exportDir, 'roroot-vmtest.deb'));

  const g = boot();
  try {
    await g.login();
    assert.match((await g.sh('dmesg | grep "roroot: modules:"')).out, /modules\.dep is current, no window/);
    const dpkg = await g.sh(`roroot rw -- dpkg -i ${REMOTE}/roroot-vmtest.deb`, 300);
    assert.is(dpkg.code, 0, dpkg.out);
    assert.match(dpkg.out, /roroot: rw-window: rw: dpkg -i \S+ \([\d.]+ ms, \d+ writes, [\d.]+ KiB to \/dev\/vda1\)/);
    assert.is(await rootMode(g), 'ro');
    assert.match((await g.sh('dpkg -s roroot-vmtest')).out, /Status: install ok installed/);
    assert.match((await g.sh('readlink /var/spool/roroot-vmtest')).out, /^\/var\/lib\/roroot\/volatile\/var\/spool\/roroot-vmtest\n$/);
    assert.is((await g.sh('test -d /var/lib/roroot/volatile.ini/var/log/roroot-vmtest && test -d /var/lib/roroot/volatile.ini/var/spool/roroot-vmtest')).code, 0, 'kept in the master copy');

    const killed = await g.sh(
      'roroot rw -- sleep 300 > /tmp/rw.out 2>&1 & pid=$!; until findmnt -n -o OPTIONS / | grep -q ^rw; do sleep 0.2; done; sleep 1; ' +
        'echo "during $(findmnt -n -o OPTIONS / | cut -d, -f1)"; kill -TERM $pid; wait $pid; echo "rc=$? after $(findmnt -n -o OPTIONS / | cut -d, -f1)"',
      120,
    );
    assert.match(killed.out, /during rw\n[^]*rc=143 after ro\n/);
    assert.is((await g.sh(`roroot rw -- touch /lib/modules/$(uname -r)/kernel/fs/fat/vfat.ko`)).code, 0);
    await g.poweroff();
  } finally {
    g.kill();
  }

  const g2 = boot();
  try {
    await g2.login();
    const log = (await g2.sh('dmesg | grep -E "roroot: (modules|rw-window):"')).out;
    assert.match(log, /modules: modules\.dep is stale: \S+\/vfat\.ko is newer than modules\.dep/);
    assert.match(log, /rw-window: modules\.dep \([\d.]+ ms, \d+ writes, [\d.]+ KiB to \/dev\/vda1\)/);
    assert.is(await rootMode(g2), 'ro');
    assert.is((await g2.sh('modprobe vfat && grep -c "^vfat " /proc/modules')).out.trim(), '1');
    assert.match((await g2.sh('roroot status')).out, /last rw window: modules\.dep: [\d.]+ ms, \d+ writes \([\d.]+ KiB\), closed/);
    assert.is((await g2.sh('test -d /var/log/roroot-vmtest && test -d /var/spool/roroot-vmtest && cat /usr/share/roroot-vmtest/hello')).out, 'hello from a package\n');
    await g2.poweroff();
  } finally {
    g2.kill();
  }

  const g3 = boot();
  try {
    await g3.login();
    assert.match((await g3.sh('dmesg | grep "roroot: modules:"')).out, /modules\.dep is current, no window/);
    assert.is((await g3.sh('dmesg | grep -c "roroot: rw-window"')).out.trim(), '0');
    await g3.poweroff();
  } finally {
    g3.kill();
  }
});

t.run();
