import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Guest } from '../../board/guest';
import { buildUpdate } from '../../board/update-file';
import { fileStart, parseStart, type Parsed } from '../../init/upgrade/fw-file';

// A/B upgrades on the two-slot board (board/qemu-ab.conf, make image), in
// QEMU, one guest whose reboots reboot: GRUB picks the slot, counts the
// tries, the commit unit makes a healthy trial the default. From slot A
// (the image's version) to B (make update's, VERSION-next); then three
// updates into A from B: one whose health command fails and one whose
// kernel panics (both end on B, the reason in status and the kernel log),
// and one that comes back to A. Refused files first: nothing written.
// The tries a trial gets are the running firmware's (UPGRADE_TRIES): A
// arms B with the board's 2, and the -next the test installs says 1, so
// that each failing trial from B costs one boot of ~80 s under TCG.

const t = suite('upgrade (QEMU, two slots)');
const BUILD = resolve(__dirname, '../../../build');
const VERSION = (JSON.parse(readFileSync(resolve(__dirname, '../../../package.json'), 'utf8')) as { version: string }).version;
const IMAGE = join(BUILD, 'image/qemu-ab.img');
const NEXT = join(BUILD, `update/qemu-ab-${VERSION}-next`);
const KEY = join(BUILD, 'keys/update.pem');

let dir: string;

interface Status {
  slots: { slot: 'a' | 'b'; version: string | null; booted: boolean; default: boolean; trial: boolean }[];
  trial: { slot: string; version: string; triesLeft: number } | null;
  lastFallback: string | null;
}
const json = <T>(text: string): T => JSON.parse(text.slice(text.indexOf('{'))) as T;
const debugfs = (image: string, commands: string[]) => {
  writeFileSync(join(dir, 'debugfs.cmd'), commands.join('\n') + '\n');
  execFileSync('debugfs', ['-w', '-f', join(dir, 'debugfs.cmd'), image], { stdio: 'ignore' });
};

// A signed update made of the -next image with one change.
async function variant(name: string, version: string, change: (image: string) => void): Promise<void> {
  const image = join(dir, `${name}.img`);
  execFileSync('cp', ['--sparse=always', `${NEXT}.img`, image]);
  writeFileSync(join(dir, 'firmware'), `${version}\n`);
  debugfs(image, ['cd /etc/roroot', 'rm firmware', `write ${join(dir, 'firmware')} firmware`]);
  change(image);
  await buildUpdate({ image, board: 'qemu-ab', version, privatePem: readFileSync(KEY, 'utf8'), out: join(dir, 'media', `${name}.rorootfw`) });
  rmSync(image);
}

function editConf(image: string, edit: (conf: string) => string) {
  const conf = execFileSync('debugfs', ['-R', 'cat /etc/roroot.conf', image], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const changed = edit(conf);
  if (changed === conf) throw new Error(`${image}: /etc/roroot.conf unchanged by the edit`);
  writeFileSync(join(dir, 'roroot.conf'), changed);
  debugfs(image, ['cd /etc', 'rm roroot.conf', `write ${join(dir, 'roroot.conf')} roroot.conf`]);
}

// The -next file with another header or signature, the same payload.
function reheaded(name: string, edit: (p: Parsed) => { line: string; signature: string }) {
  const file = readFileSync(`${NEXT}.rorootfw`);
  const p = parseStart(file) as Parsed;
  const payload = file.subarray(p.payloadOffset);
  const e = edit(p);
  writeFileSync(join(dir, 'media', `${name}.rorootfw`), Buffer.concat([Buffer.from(fileStart(e.line, e.signature)), payload]));
}

t.before(async () => {
  for (const f of [IMAGE, `${NEXT}.img`, `${NEXT}.rorootfw`, KEY]) if (!existsSync(f)) throw new Error(`${f} is missing: make build/image/qemu-ab.img build/update/qemu-ab-${VERSION}-next.rorootfw`);
  dir = mkdtempSync(join(tmpdir(), 'roroot-upgrade-vm-'));
  mkdirSync(join(dir, 'media'));
  await variant('next', `${VERSION}-next`, (image) => editConf(image, (conf) => conf.replace(/^UPGRADE_TRIES=2$/m, 'UPGRADE_TRIES=1')));
  await variant('unhealthy', `${VERSION}-unhealthy`, (image) => editConf(image, (conf) => `${conf}UPGRADE_HEALTH=/bin/false\n`));
  // No initramfs: the kernel cannot mount its root (virtio_blk is a module)
  // and panics; panic=10 reboots it.
  await variant('panic', `${VERSION}-panic`, (image) => debugfs(image, ['rm /initrd.img']));
  await variant('back', `${VERSION}-back`, () => {});
  const stranger = generateKeyPairSync('ed25519').privateKey;
  reheaded('badsig', (p) => ({ line: p.headerLine, signature: sign(null, Buffer.from(p.headerLine), stranger).toString('base64') }));
  reheaded('wrongboard', (p) => {
    const line = JSON.stringify({ ...p.header, board: 'pc-router' });
    return { line, signature: sign(null, Buffer.from(line), readFileSync(KEY, 'utf8')).toString('base64') };
  });
  const next = readFileSync(`${NEXT}.rorootfw`);
  writeFileSync(join(dir, 'media/truncated.rorootfw'), next.subarray(0, next.length - (1 << 20)));
  // The stick: an ext4 image of those files, the guest's second disk.
  const media = join(dir, 'media.img');
  writeFileSync(media, '');
  truncateSync(media, Math.ceil((Number(execFileSync('du', ['-sb', join(dir, 'media')], { encoding: 'utf8' }).split('\t')[0]) * 1.1) / 1048576 + 16) * 1048576);
  execFileSync('mkfs.ext4', ['-q', '-F', '-d', join(dir, 'media'), media]);
  rmSync(join(dir, 'media'), { recursive: true });
});
t.after(() => rmSync(dir, { recursive: true, force: true }));

t('A to B, B to A; a trial whose health command fails and one whose kernel panics end on the old slot, saying why; bad files refused, nothing written', async () => {
  const disk = join(dir, 'disk.qcow2');
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', IMAGE, '-F', 'raw', disk]);
  const g = Guest.boot({ disk, format: 'qcow2', memMiB: 256, nfsPort: null, reboots: true, mediaDisk: join(dir, 'media.img') });
  // Where the time goes, on the test's output (a boot, an upgrade).
  const t0 = Date.now();
  const mark = (what: string) => process.stdout.write(`  [${Math.round((Date.now() - t0) / 1000)} s] ${what}\n`);
  const status = async () => json<Status>((await g.sh('roroot upgrade --status --json')).out);
  const slotOf = (s: Status) => ({ booted: s.slots.find((x) => x.booted)?.slot, default: s.slots.find((x) => x.default)?.slot, version: s.slots.find((x) => x.booted)?.version });
  const upgrade = async (file: string) => {
    mark(`upgrade ${file}`);
    const r = await g.sh(`roroot upgrade /mnt/${file}.rorootfw 2>&1`, 900);
    assert.is(r.code, 0, r.out);
    mark(`upgrade ${file}: done`);
    return r.out;
  };
  // The commit unit runs after multi-user.target: wait for the trial to end.
  const committed = async () => {
    for (let i = 0; i < 60; i++) {
      const s = await status();
      if (!s.trial) return s;
      await new Promise((r) => setTimeout(r, 3000));
    }
    throw new Error('the trial was not committed within 180 s');
  };
  const rebootInto = async (timeoutSec = 300) => {
    g.type('reboot');
    await g.login('root', 'roroot', timeoutSec);
    mark('logged in');
    await g.sh('mount -o ro /dev/vdb /mnt');
  };
  try {
    await g.login();
    mark('logged in');
    await g.sh('mount -o ro /dev/vdb /mnt');
    assert.equal(slotOf(await status()), { booted: 'a', default: 'a', version: VERSION });

    // Refused before a byte is written: the records and slot B unchanged.
    const fingerprint = async () => (await g.sh('sha256sum /dev/vda1; dd if=/dev/vda3 bs=1M count=8 status=none | sha256sum')).out;
    const before = await fingerprint();
    const refusals: Record<string, RegExp> = {
      badsig: /the signature is not valid for \/etc\/roroot\/update\.pub: refused/,
      wrongboard: /the update is for board pc-router, this is qemu-ab: refused/,
      truncated: /truncated or padded, refused/,
    };
    for (const [file, said] of Object.entries(refusals)) {
      const r = await g.sh(`roroot upgrade /mnt/${file}.rorootfw 2>&1`, 120);
      assert.is.not(r.code, 0, `${file}: ${r.out}`);
      assert.match(r.out, said);
    }
    assert.is(await fingerprint(), before, 'nothing written by a refused file');
    assert.is((await status()).trial, null);

    // A to B. The state is the router's, not the firmware's: the same
    // identity on the new slot.
    const id = (await g.sh('cat /etc/machine-id')).out;
    assert.match(id, /^[0-9a-f]{32}\n$/);
    assert.match(await upgrade('next'), /armed for 2 trial boot\(s\)/);
    assert.equal((await status()).trial, { slot: 'b', version: `${VERSION}-next`, triesLeft: 2 });
    await rebootInto();
    assert.equal(slotOf(await committed()), { booted: 'b', default: 'b', version: `${VERSION}-next` });
    assert.match((await g.sh('systemctl show -p Result --value roroot-commit.service')).out, /^success\n$/);
    assert.is((await g.sh('cat /etc/machine-id')).out, id, 'the identity kept on the state across the upgrade');
    assert.equal(json<{ windows: unknown[] }>((await g.sh('roroot status --json')).out).windows, [], "the new slot's modules.dep is current: no window at its first boot");

    // Into A, unhealthy: the trial boot fails its health command and
    // reboots; its one try spent, GRUB boots B, which says why.
    assert.match(await upgrade('unhealthy'), /armed for 1 trial boot\(s\)/);
    g.type('reboot');
    await g.expect(/upgrade: slot a \(\S+-unhealthy\): the health command \/bin\/false failed \(exit 1\); rebooting/, 400);
    await g.login('root', 'roroot', 400);
    await g.sh('mount -o ro /dev/vdb /mnt');
    let s = await status();
    assert.equal(slotOf(s), { booted: 'b', default: 'b', version: `${VERSION}-next` });
    assert.is(s.trial, null);
    assert.match(s.lastFallback ?? '', /slot a \(\S+-unhealthy\): the health command \/bin\/false failed \(exit 1\)/);
    assert.match((await g.sh('dmesg')).out, /roroot: upgrade: fallback to slot b: slot a \(\S+-unhealthy\): the health command/);

    // Into A, a kernel that panics: its try, then B.
    await upgrade('panic');
    await rebootInto(600);
    const panics = g.console.match(/Kernel panic - not syncing/g)?.length ?? 0;
    assert.is(panics, 1, 'one panic per try');
    s = await status();
    assert.equal(slotOf(s), { booted: 'b', default: 'b', version: `${VERSION}-next` });
    assert.match(s.lastFallback ?? '', /slot a \(\S+-panic\) did not come up healthy in 1 boot\(s\)/);

    // And back to A.
    await upgrade('back');
    await rebootInto();
    assert.equal(slotOf(await committed()), { booted: 'a', default: 'a', version: `${VERSION}-back` });
    assert.is(json<{ degraded: boolean }>((await g.sh('roroot status --json')).out).degraded, false, 'a committed slot boots not degraded');
  } catch (err) {
    writeFileSync(join(tmpdir(), 'roroot-upgrade-vm-console.log'), g.console);
    throw err;
  } finally {
    g.kill();
  }
});

t.run();
