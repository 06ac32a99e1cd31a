import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { NfsServer } from '../board/nfs-server';
import { Guest } from '../board/guest';
import { freePort, hostKeyFingerprint, sshLogin } from './support/ssh';

// The reference router image (make image), booted by QEMU from its own MBR,
// driven on the serial console. Each test boots a qcow2 overlay of the one
// shared image, so the image itself is never written.

const t = suite('image (QEMU, serial console)');
const IMAGE = resolve(__dirname, '../../build/image/qemu-x86_64.img');
let dir: string;
let nfs: NfsServer;

t.before(async () => {
  if (!existsSync(IMAGE)) throw new Error(`${IMAGE} is missing: make image`);
  dir = mkdtempSync(join(tmpdir(), 'roroot-vm-'));
  nfs = await NfsServer.start(join(dir, 'nfs'));
});
t.after(async () => {
  await nfs.stop();
  rmSync(dir, { recursive: true, force: true });
});

function overlay(name: string): string {
  const file = join(dir, `${name}.qcow2`);
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', IMAGE, '-F', 'raw', file]);
  return file;
}

const json = <T>(text: string): T => JSON.parse(text.slice(text.indexOf('{'))) as T;
interface Status {
  root: { readOnly: boolean };
  stores: { name: string; mounted: boolean; source: string; fstype: string; freeBytes: number }[];
  lastBoot: { started: string; totalMs: number; steps: { id: string; status: string; atMs: number; ms: number; error?: string }[] };
}

t('boots to login from its own MBR; read-only root, scratch re-made each boot, persistent data on the NFS export, one identity over SSH and across boots', async () => {
  const disk = overlay('main');
  const sshPort = await freePort();
  const g = Guest.boot({ disk, format: 'qcow2', memMiB: 256, nfsPort: nfs.port, sshPort });
  try {
    await g.login();
    // The initramfs's DHCP answered on its first try (roroot-net brings the
    // link up before ipconfig; without that every boot lost 10 s here).
    assert.match(g.console, /IP-Config: ens3 complete/);
    // The image's startup snapshot, built on qemu64 in user-mode emulation
    // with V8's CPU features off, starts on the guest's CPU (until
    // 2026-12-01 no image started from its snapshot: built on the build
    // host's CPU, V8 refused it); and /usr/sbin/roroot uses it once the
    // trampoline saw it start.
    assert.match(g.console, /roroot: boot: roroot \S+, started from its startup snapshot/);
    assert.not.match(g.console, /roroot-init: boot stage failed|Failed to load the startup snapshot|from its startup snapshot failed/);
    assert.not.match(g.console, /not yet supported in user snapshots/);
    const command = (await g.sh('ls /run/roroot-snapshot-started && sh -x /usr/sbin/roroot --version 2>&1')).out;
    assert.match(command, /^\/run\/roroot-snapshot-started\n/);
    assert.match(command, /^\+ exec \/usr\/bin\/node --no-enable-\S+( --no-enable-\S+)* --mcpu=generic --jitless --no-expose-wasm --snapshot-blob \/usr\/lib\/roroot\/roroot\.blob -- --version\n\d+\.\d+\.\d+\S*\n/m);
    assert.not.match(g.console, /IP-Config: no response/);
    // No fsck of the read-only root (fstab pass 0): until 2026-12
    // systemd-fsck-root checked it after the boot stage, 1.75 s of a boot.
    assert.is((await g.sh('journalctl -b -q -u systemd-fsck-root | wc -l')).out.trim(), '0');
    assert.not.match((await g.sh('cat /etc/resolv.conf')).out, /nameserver/, 'no build-host resolver in the image');
    const ro = await g.sh('touch /probe 2>&1');
    assert.is.not(ro.code, 0);
    assert.match(ro.out, /Read-only file system/);
    assert.equal((await g.sh('findmnt -n -o SOURCE --target /tmp/; findmnt -n -o SOURCE --target /var/log/')).out.split('\n').filter(Boolean), ['/dev/vda2', '/dev/vda2']);
    assert.is((await g.sh('echo w > /tmp/gone && echo w >> /var/log/written')).code, 0, '/tmp and /var/log are writable');
    assert.match((await g.sh('readlink /etc/mtab')).out, /^(\/proc\/mounts|\.\.\/proc\/self\/mounts)\n$/);
    const st = json<Status>((await g.sh('roroot status --json')).out);
    assert.is(st.root.readOnly, true);
    const scratch = st.stores.find((s) => s.name === 'scratch');
    assert.ok(scratch?.mounted && scratch.source === '/dev/vda2' && scratch.freeBytes > 0, JSON.stringify(scratch));
    const remote = st.stores.find((s) => s.name === 'remote');
    assert.ok(remote?.mounted && remote.fstype.startsWith('nfs'), JSON.stringify(remote));
    const mkfs = st.lastBoot.steps.find((s) => s.id === 'scratch.mkfs');
    assert.ok(mkfs?.status === 'ok' && mkfs.ms > 0);
    // The identity stands on the local state, not on REMOTE: it was made
    // while REMOTE's NFS mount ran (until 2026-12 it waited for it, ~1 s).
    const nfsMount = st.lastBoot.steps.find((s) => s.id === 'remote.nfs');
    const identity = st.lastBoot.steps.filter((s) => s.id.startsWith('identity'));
    assert.ok(nfsMount && identity.length > 0 && identity[0].atMs < nfsMount.atMs + nfsMount.ms, `identity from ${identity[0]?.atMs} ms, REMOTE ${nfsMount?.atMs} + ${nfsMount?.ms} ms`);
    // REMOTE stands on nothing the local steps make: its mount started
    // before the scratch's mkfs (until 2026-12 after the scratch's mount).
    assert.ok(nfsMount.atMs <= mkfs.atMs, `REMOTE from ${nfsMount.atMs} ms, mkfs from ${mkfs.atMs} ms`);
    const logged = (await g.sh('dmesg | grep -c "roroot: "')).out.trim();
    assert.ok(Number(logged) >= st.lastBoot.steps.length + 2, `every boot step is in the kernel log: ${logged} lines for ${st.lastBoot.steps.length} steps`);
    // Its identity, made at its first boot on its state partition (vda3),
    // and its SSH server, reached through the hostfwd.
    const id = (await g.sh('cat /etc/machine-id')).out;
    assert.match(id, /^[0-9a-f]{32}\n$/);
    assert.match((await g.sh('findmnt -n -o SOURCE /etc/machine-id')).out, /^\/dev\/vda3\[/, 'kept on the state partition');
    assert.is((await g.sh('roroot status >/dev/null')).code, 0, `not degraded: ${(await g.sh('roroot status')).out}`);
    const key = await hostKeyFingerprint(sshPort);
    const ssh = await sshLogin(sshPort);
    try {
      assert.is((await ssh.sh('cat /etc/machine-id')).out, id, 'the same router over SSH');
    } finally {
      ssh.kill();
    }
    const mark = `kept-${Date.now()}`;
    assert.is((await g.sh(`echo ${mark} > /var/lib/roroot-data/kept && sync`)).code, 0);
    assert.is(readFileSync(join(nfs.exportDir, 'var/lib/roroot-data/kept'), 'utf8'), `${mark}\n`, 'on the host export');
    await g.poweroff();

    const again = Guest.boot({ disk, format: 'qcow2', memMiB: 256, nfsPort: nfs.port, sshPort });
    try {
      await again.login();
      assert.is((await again.sh('cat /etc/machine-id')).out, id, 'the same machine id after a reboot');
      assert.is(await hostKeyFingerprint(sshPort), key, 'the same SSH host key after a reboot');
      assert.is((await again.sh('ls /tmp/gone 2>&1')).code, 2, 'the scratch was re-made: /tmp/gone is gone');
      assert.is((await again.sh('grep -c w /var/log/written 2>&1')).code, 2);
      assert.is((await again.sh('cat /var/lib/roroot-data/kept')).out, `${mark}\n`, 'persistent data survived the reboot');
      const st2 = json<Status>((await again.sh('roroot status --json')).out);
      assert.is.not(st2.lastBoot.started, st.lastBoot.started);
      assert.ok(st2.lastBoot.steps.some((s) => s.id === 'scratch.mkfs' && s.status === 'ok'));
      await again.poweroff();
    } finally {
      again.kill();
    }
  } finally {
    g.kill();
  }
});

t('NFS server down: the router still reaches login in bounded time, says so, and mounts once the server is back', async () => {
  await nfs.stop();
  const g = Guest.boot({ disk: overlay('nonfs'), format: 'qcow2', memMiB: 256, nfsPort: nfs.port });
  try {
    await g.login();
    const st = json<Status>((await g.sh('roroot status --json')).out);
    const remote = st.lastBoot.steps.find((s) => s.id === 'remote.nfs');
    assert.is(remote?.status, 'failed');
    assert.ok(st.lastBoot.totalMs < 30_000, `boot stage took ${st.lastBoot.totalMs} ms`);
    assert.match((await g.sh('dmesg | grep "roroot: remote:"')).out, /roroot: remote: mount -n -t nfs .* 10\.0\.2\.100:\/export \/var\/lib\/roroot\/remote: .*, continuing, retrying in the background/);
    await nfs.restart();
    let mounted = false;
    for (let i = 0; i < 30 && !mounted; i++) {
      mounted = (await g.sh('findmnt -n /var/lib/roroot/remote >/dev/null')).code === 0;
      if (!mounted) await new Promise((r) => setTimeout(r, 3000));
    }
    assert.ok(mounted, 'the background retry mounted REMOTE once the server answered');
    assert.is((await g.sh('echo back > /var/lib/roroot-data/after-outage && sync')).code, 0);
    await g.poweroff();
  } finally {
    g.kill();
  }
});

t.run();
