import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildUpdate } from '../../board/update-file';
import { encodeRecord, encodeTries } from '../../init/upgrade/boot-state';
import { fileStart, parseStart, type Parsed } from '../../init/upgrade/fw-file';
import { LoopDisk } from '../support/loop-disk';
import { inNamespace, sections } from '../support/namespace';
import { BUNDLE } from '../support/router';

// roroot upgrade on loop devices: a disk laid out as a two-slot board's
// (the boot partition with its records, slots a and b), a system tree for
// the running slot's config and key. What it refuses writes nothing; what
// it takes lands in the other slot, checked, and armed; --status, --cancel,
// --retry and --commit do what they say; a trial slot that does not hold
// its image is never committed.

const t = suite('upgrade (root, loop devices)');
let dir: string;
let disk: LoopDisk;
let tree: string;
const keys = generateKeyPairSync('ed25519');
const stranger = generateKeyPairSync('ed25519');
const pem = (k: typeof keys.privateKey) => k.export({ type: 'pkcs8', format: 'pem' }).toString();

// An ext4 image of `mib` MiB whose /etc/roroot/firmware says `version`.
function slotImage(name: string, version: string, mib = 20): string {
  const d = join(dir, `${name}.tree`);
  mkdirSync(join(d, 'etc/roroot'), { recursive: true });
  writeFileSync(join(d, 'etc/roroot/firmware'), `${version}\n`);
  const img = join(dir, `${name}.img`);
  writeFileSync(img, '');
  truncateSync(img, mib << 20);
  execFileSync('mkfs.ext4', ['-q', '-F', '-d', d, img]);
  return img;
}

t.before.each(() => {
  dir = mkdtempSync(join(tmpdir(), 'roroot-upgrade-'));
  disk = LoopDisk.create(join(dir, 'disk.img'), 80, [8, 32, 32]);
  // The boot partition as roroot flash makes it: slot a the default.
  const boot = join(dir, 'boot');
  mkdirSync(join(boot, 'roroot'), { recursive: true });
  writeFileSync(join(boot, 'roroot/state0'), encodeRecord(0, { seq: 1, default: 'a', trial: 'none', sha256: '', size: 0, version: '1.0', note: '' }));
  writeFileSync(join(boot, 'roroot/state1'), Buffer.alloc(1024, '#'));
  writeFileSync(join(boot, 'roroot/tries'), encodeTries(0));
  execFileSync('mkfs.ext2', ['-q', '-F', '-d', boot, disk.partition(1)]);
  execFileSync('dd', [`if=${slotImage('a', '1.0')}`, `of=${disk.partition(2)}`, 'bs=1M', 'status=none']);
  tree = join(dir, 'tree');
  mkdirSync(join(tree, 'etc/roroot'), { recursive: true });
  writeFileSync(join(tree, 'etc/roroot.conf'), 'BOARD=qemu-ab\nUPGRADE_TRIES=3\n');
  writeFileSync(join(tree, 'etc/roroot/update.pub'), keys.publicKey.export({ type: 'spki', format: 'pem' }));
  writeFileSync(join(tree, 'etc/roroot/firmware'), '1.0\n');
});
t.after.each(() => {
  disk.detach();
  rmSync(dir, { recursive: true, force: true });
});

const cmdline = (slot: 'a' | 'b') => `ro roroot.slot=${slot} roroot.boot=PARTUUID=${disk.partuuid(1)} roroot.slot_a=PARTUUID=${disk.partuuid(2)} roroot.slot_b=PARTUUID=${disk.partuuid(3)}`;
const sum = (f: string, n?: number) => createHash('sha256').update(n === undefined ? readFileSync(f) : readFileSync(f).subarray(0, n)).digest('hex');

// Shell in a private namespace. Under --root a reboot is only said.
function roroot(script: string) {
  const r = inNamespace(`up() { node ${BUNDLE} upgrade --root ${tree} "$@"; }
${script}`);
  return { ...r, s: sections(r.stdout) };
}

async function update(name: string, o: { board?: string; key?: string | null; version?: string } = {}) {
  const out = join(dir, `${name}.rorootfw`);
  await buildUpdate({ image: slotImage(name, o.version ?? '2.0'), board: o.board ?? 'qemu-ab', version: o.version ?? '2.0', privatePem: o.key === undefined ? pem(keys.privateKey) : o.key, out });
  return out;
}

t('an update for this board, signed: written to the other slot, read back, armed; status says so', async () => {
  const f = await update('good');
  const r = roroot(`echo "=== up"; up --cmdline '${cmdline('a')}' ${f} 2>&1; echo "=== status"; up --cmdline '${cmdline('a')}' --status --json`);
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.match(r.s.up, /upgrade: qemu-ab 2\.0, signed: writing slot b \(\S+\), the running slot a untouched/);
  assert.match(r.s.up, /armed for 3 trial boot\(s\)/);
  const image = join(dir, 'good.img');
  assert.is(sum(disk.partition(3), 20 << 20), sum(image), 'slot b holds the image');
  const st = JSON.parse(r.s.status);
  assert.equal(st.slots.map((x: { slot: string; version: string; booted: boolean; default: boolean; trial: boolean }) => [x.slot, x.version, x.booted, x.default, x.trial]), [['a', '1.0', true, true, false], ['b', '2.0', false, false, true]]);
  assert.equal(st.trial, { slot: 'b', version: '2.0', triesLeft: 3 });
});

t('refused before a byte is written: signed by another key, unsigned, for another board, truncated', async () => {
  const cases = {
    stranger: await update('stranger', { key: pem(stranger.privateKey) }),
    unsigned: await update('unsigned', { key: null }),
    board: await update('board', { board: 'pc-router' }),
    truncated: await update('truncated'),
  };
  truncateSync(cases.truncated, Number(execFileSync('stat', ['-c', '%s', cases.truncated], { encoding: 'utf8' })) - 1000);
  const before = [sum(disk.partition(1)), sum(disk.partition(3))];
  const r = roroot(Object.entries(cases).map(([k, f]) => `echo "=== ${k}"; up --cmdline '${cmdline('a')}' ${f} 2>&1 || echo "rc=$?"`).join('\n'));
  assert.match(r.s.stranger, /the signature is not valid for \/etc\/roroot\/update\.pub: refused \(--allow-unsigned takes it anyway\)\nrc=1/);
  assert.match(r.s.unsigned, /the update is not signed for \/etc\/roroot\/update\.pub: refused/);
  assert.match(r.s.board, /the update is for board pc-router, this is qemu-ab: refused/);
  assert.match(r.s.truncated, /truncated or padded, refused\nrc=1/);
  assert.equal([sum(disk.partition(1)), sum(disk.partition(3))], before, 'not a byte of the boot partition or of slot b');
  const allowed = roroot(`up --cmdline '${cmdline('a')}' --allow-unsigned ${cases.unsigned} 2>&1`);
  assert.match(allowed.stdout, /2\.0, NOT SIGNED: writing slot b/);
});

t("never armed when slot b does not read back as the signed header says: a payload damaged on the way (gzip's CRC), another payload under a signed header", async () => {
  const damaged = await update('damaged');
  const file = readFileSync(damaged);
  const p = parseStart(file) as Parsed;
  // In gzip's CRC-32 of the image (the trailer's first 4 bytes): the
  // image inflates whole, and only the check tells it is not the one
  // that was packed (a flip in the deflate stream fails in as many ways
  // as there are bytes).
  file[p.payloadOffset + p.header.payloadSize - 8] ^= 0x55;
  writeFileSync(damaged, file);
  // The header names another image, signed with the router's key.
  const other = await update('other');
  const o = readFileSync(other);
  const op = parseStart(o) as Parsed;
  const line = JSON.stringify({ ...op.header, imageSha256: createHash('sha256').update('another image').digest('hex') });
  writeFileSync(other, Buffer.concat([Buffer.from(fileStart(line, sign(null, Buffer.from(line), keys.privateKey).toString('base64'))), o.subarray(op.payloadOffset)]));
  const before = sum(disk.partition(1));
  const r = roroot(`echo "=== damaged"; up --cmdline '${cmdline('a')}' ${damaged} 2>&1 || echo "rc=$?"
echo "=== other"; up --cmdline '${cmdline('a')}' ${other} 2>&1 || echo "rc=$?"
echo "=== status"; up --cmdline '${cmdline('a')}' --status --json`);
  assert.match(r.s.damaged, /upgrade: the image: incorrect data check\nrc=1/);
  assert.match(r.s.other, /slot b reads back as [0-9a-f]{64}, not the update's [0-9a-f]{64} \(a payload its signature does not cover, or a disk that lost writes\): not armed\nrc=1/);
  assert.is(sum(disk.partition(1)), before, 'the boot records untouched');
  assert.is(JSON.parse(r.s.status).trial, null);
});

t('a second upgrade during a trial is refused; --cancel disarms it, --retry arms the same image again', async () => {
  const f = await update('good');
  const r = roroot(`up --cmdline '${cmdline('a')}' ${f} >/dev/null
echo "=== again"; up --cmdline '${cmdline('a')}' ${f} 2>&1 || echo "rc=$?"
echo "=== cancel"; up --cmdline '${cmdline('a')}' --cancel; up --cmdline '${cmdline('a')}' --status --json
echo "=== retry"; up --cmdline '${cmdline('a')}' --retry; up --cmdline '${cmdline('a')}' --status --json`);
  assert.match(r.s.again, /slot b is on trial \(2\.0, 3 boots left\): roroot upgrade --cancel first\nrc=1/);
  assert.match(r.s.cancel, /slot b \(2\.0\): trial cancelled by roroot upgrade --cancel/);
  assert.is(JSON.parse(r.s.cancel.slice(r.s.cancel.indexOf('{'))).trial, null);
  assert.equal(JSON.parse(r.s.retry.slice(r.s.retry.indexOf('{'))).trial, { slot: 'b', version: '2.0', triesLeft: 3 });
});

t('the trial slot, up: committed when healthy; not when its health command fails (a reboot is asked for)', async () => {
  const f = await update('good');
  // The trial boot's boot record, not degraded, on the scratch it names.
  const rw = join(tree, 'var/lib/roroot/volatile/.roroot');
  mkdirSync(rw, { recursive: true });
  writeFileSync(join(rw, 'boot.json'), JSON.stringify({ version: '2.0', started: '', active: true, reason: '', totalMs: 1, fatal: false, steps: [], notes: [], configErrors: [], warnings: [], degraded: false, reasons: [] }));
  writeFileSync(join(tree, 'etc/roroot.conf'), 'BOARD=qemu-ab\nUPGRADE_HEALTH=/bin/false\n');
  mkdirSync(join(tree, 'bin'));
  execFileSync('cp', ['/bin/false', join(tree, 'bin/false')]);
  const sick = roroot(`up --cmdline '${cmdline('a')}' ${f} >/dev/null
echo "=== commit"; up --cmdline '${cmdline('b')}' --commit --kmsg none 2>&1 || echo "rc=$?"; up --cmdline '${cmdline('b')}' --status --json`);
  assert.match(sick.s.commit, /upgrade: slot b \(2\.0\): the health command \S+\/bin\/false failed \(exit 1\); rebooting \(3 trial boot\(s\) left, then slot a\)\n(.*\n)*rc=1/);
  assert.match(sick.s.commit, /upgrade: under --root \S+: no reboot/, 'a reboot asked for: GRUB spends a try');
  assert.is(JSON.parse(sick.s.commit.slice(sick.s.commit.indexOf('{'))).slots[1].default, false);
  writeFileSync(join(tree, 'etc/roroot.conf'), 'BOARD=qemu-ab\n');
  const ok = roroot(`echo "=== commit"; up --cmdline '${cmdline('b')}' --commit --kmsg none; up --cmdline '${cmdline('b')}' --status --json`);
  assert.match(ok.s.commit, /upgrade: slot b \(2\.0\) committed: the default from now on/);
  const st = JSON.parse(ok.s.commit.slice(ok.s.commit.indexOf('{')));
  assert.equal([st.slots[1].default, st.trial], [true, null]);
});

t('a trial slot that does not hold the image it was armed with (lost writes) is never committed: the boot cancels the trial', async () => {
  const f = await update('good');
  const r = roroot(`up --cmdline '${cmdline('a')}' ${f} >/dev/null
dd if=/dev/urandom of=${disk.partition(3)} bs=4096 seek=100 count=1 conv=notrunc,fsync status=none
mkdir -p ${tree}/var/lib/roroot/volatile
echo "=== boot"; node ${BUNDLE} boot --root ${tree} --cmdline '${cmdline('b')}' --kmsg none --no-background 2>&1 | grep upgrade || true
echo "=== status"; up --cmdline '${cmdline('a')}' --status --json`);
  assert.match(r.s.boot, /roroot: upgrade: slot b \(2\.0\) on trial, 2 boot\(s\) left after this one|roroot: upgrade: slot b \(2\.0\) on trial/);
  assert.match(r.s.boot, /roroot: upgrade: slot b \(2\.0\) does not hold the image it was armed with \(sha256 [0-9a-f]{64}, not [0-9a-f]{64}\): the disk lost writes; not committed; rebooting into slot a/);
  const st = JSON.parse(r.s.status);
  assert.is(st.trial, null);
  assert.match(st.lastFallback, /does not hold the image it was armed with/);
  assert.match(r.s.boot, /upgrade: under --root \S+: no reboot/, 'a reboot, into the default');
});

t.run();
