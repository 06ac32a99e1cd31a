import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { stepSamples, timeline, type StageRecord } from './guest-timeline';

// The guest's boot, phase by phase, from its kernel log, its boot record
// and its clock (lines from a real boot of the reference image).

const t = suite('bench/guest-timeline');

const DMESG = `[    0.000000] Command line: BOOT_IMAGE=/boot/vmlinuz-6.1.0-57-amd64 root=PARTUUID=2b9c7a21-01 ro
[    5.466152] Run /init as init process
[   15.774531] EXT4-fs (vda1): mounted filesystem with ordered data mode. Quota mode: none.
[   26.901107] roroot: boot: on (READONLY=yes)
[   27.646747] EXT4-fs (vda2): mounted filesystem without journal. Quota mode: none.
[   31.918057] roroot: boot: done in 7360 ms, 12 steps, 0 failed
[   32.496038] systemd[1]: Inserted module 'autofs4'
[   32.854869] systemd[1]: systemd 252.39-1~deb12u2 running in system mode
`;
const boot = Date.parse('2026-12-01T11:50:46.000Z'); // the guest's clock at its kernel's start
const record: StageRecord = {
  started: new Date(boot + 24_558).toISOString(),
  totalMs: 7360,
  atMs: 1000,
  steps: [
    { id: 'scratch.mkfs', phase: 'scratch', command: 'mkfs.ext4 -L roroot-rw -d /var/lib/roroot/volatile.ini /dev/vda2', atMs: 2000, ms: 540 },
    { id: 'remote.nfs', phase: 'remote', command: 'mount -n -t nfs 10.0.2.100:/export /var/lib/roroot/remote', atMs: 2600, ms: 4050 },
    { id: 'identity:/etc/machine-id', phase: 'identity', command: 'machine-id > /var/lib/roroot/state/etc/machine-id (if missing)', atMs: 3000, ms: 200 },
  ],
};

t('roroot: kernel, initramfs, to the stage, the stage, to init, userspace; what the host saw before the kernel', () => {
  const tl = timeline(DMESG, { loginMs: 71_600, uptimeAtPromptMs: 66_900, bootEpochMs: boot }, record);
  assert.equal(
    { ...tl, stage: tl.stage === record },
    { firmwareMs: 4700, kernelMs: 5466.152, initramfsMs: 10308.379, toStageMs: 8783.469, stage: true, toInitMs: 578.038, userspaceMs: 34403.962, loginMs: 71600 },
  );
});

t('no roroot: from the root mount straight to init', () => {
  const tl = timeline(DMESG, { loginMs: 71_600, uptimeAtPromptMs: 66_900, bootEpochMs: boot }, null);
  assert.is(tl.toStageMs, null);
  assert.is(tl.toInitMs, 16721.507);
});

t('a kernel log without a landmark says which', () => {
  assert.throws(() => timeline(DMESG.replace(/.*systemd.*\n/g, ''), { loginMs: 1, uptimeAtPromptMs: 1, bootEpochMs: boot }, null), /the guest's kernel log has no systemd line/);
});

// A step beside another (the identity during REMOTE's mount) is not time
// outside the steps twice over: the stage's time when no step ran is its
// total less the union of the steps' intervals.
t('steps by id over boots, when each started, after the stage outside its steps', () => {
  const second = { ...record, totalMs: 8000, steps: record.steps.map((s) => ({ ...s, ms: s.ms + 100 })) };
  assert.equal(stepSamples([record, second]), [
    { label: 'probes and planning (the stage outside its steps)', fromMs: [0, 0], ms: [7360 - 540 - 4050, 8000 - 640 - (6750 - 2640)] },
    { label: 'scratch: mkfs.ext4 -L roroot-rw -d /var/lib/roroot/volatile.ini /dev/vda2', fromMs: [1000, 1000], ms: [540, 640] },
    { label: 'remote: mount -n -t nfs 10.0.2.100:/export /var/lib/roroot/remote', fromMs: [1600, 1600], ms: [4050, 4150] },
    { label: 'identity: machine-id > /var/lib/roroot/state/etc/machine-id (if missing)', fromMs: [2000, 2000], ms: [200, 300] },
  ]);
});

t.run();
