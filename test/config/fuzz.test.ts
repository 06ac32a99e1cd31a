import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { assembleConfig, CONFIG_FILES } from '../../init/config/config';
import { formatDiagnostic } from '../../init/config/diagnostic';
import { parseStateList } from '../../init/config/state-list';
import { describe } from '../../init/plan/describe';
import { mkfsRefusal } from '../../init/plan/devices';
import { planBoot, planStateFiles } from '../../init/plan/plan';
import type { Step } from '../../init/plan/steps';
import { disk, facts, flat, mount } from '../plan/fixtures';
import { rng } from '../powercut/crash-state';

// A bounded fuzz of every parser and the planner: random and hostile
// roroot.conf, readonly-root, rwtab(.d), fstab, command lines and state
// lists, a few hundred cases from fixed seeds (a failure prints its seed).
// None may throw; every skipped line is a file:line diagnostic; nothing
// said is a control byte or a line of unbounded length; nothing in a config
// ever runs; and whatever the config and the devices, no plan formats the
// root, the state or a device in use.

const t = suite('config + plan: fuzz');
const CASES = 400;

const KEYS = ['READONLY', 'TEMPORARY_STATE', 'RW_MOUNT', 'RW_DEVICE', 'RW_LABEL', 'RW_FSTYPE', 'RW_OPTIONS', 'RW_TMPFS_SIZE', 'RW_TMPFS_OPTIONS', 'RW_MASTER', 'VOLATILE', 'OVERLAY', 'STATE_MOUNT', 'STATE_LABEL', 'STATE_OPTIONS', 'CLIENTSTATE', 'STATE_ALLOW', 'REMOTE', 'REMOTE_MOUNT', 'PERSISTENT', 'DEVTMPFS', 'NFS_TIMEOUT', 'BOOT_DEADLINE', 'BOOTLOADER', 'BOGUS'];

function fuzz(seed: number, mark: string) {
  const random = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
  const junk = () => {
    let s = '';
    const n = random() < 0.05 ? 5000 : Math.floor(random() * 20);
    for (let i = 0; i < n; i++) s += random() < 0.1 ? String.fromCharCode(Math.floor(random() * 32)) : random() < 0.05 ? '\u009b' : String.fromCharCode(32 + Math.floor(random() * 95));
    return s;
  };
  const value = () =>
    pick([
      () => junk(),
      () => `"${junk()}"`,
      () => `'${junk()}'`,
      () => `$(touch ${mark})`,
      () => `\`touch ${mark}\``,
      () => `"; touch ${mark}; "`,
      () => pick(['/', '/var', '/var/lib', '/var/lib/roroot/volatile', '/../etc', 'relative', '/tmp/../..', '/dev/vda1', 'LABEL=roroot-rw', 'LABEL=roroot-state', 'PARTUUID=c0ffee00-02', 'UUID=x', '/dev/sdb']),
      () => pick(['yes', 'no', 'ext4', 'xfs', '25%', '0', '601', 'srv:/x', 'srv:/x/../..', 'flash']),
    ])();
  const shellFile = () => Array.from({ length: Math.floor(random() * 12) }, () => (random() < 0.8 ? `${random() < 0.1 ? 'export ' : ''}${pick(KEYS)}=${value()}` : junk())).join(pick(['\n', '\r\n', '\n\n']));
  const rwtab = () => Array.from({ length: Math.floor(random() * 8) }, () => `${pick(['empty', 'dirs', 'files', 'mount', junk()])} ${pick(['/', '/var', '/var/lib', '/tmp', '/etc/resolv.conf', junk(), '/var/lib/roroot/state/x'])}${random() < 0.1 ? ' extra' : ''}`).join('\n');
  const fstab = () => Array.from({ length: Math.floor(random() * 5) }, () => [pick(['/dev/vda1', 'LABEL=roroot-rw', 'LABEL=roroot-state', 'none', 'srv:/x', junk()]), pick(['/', '/var/lib/roroot/volatile', '/var/lib/roroot/state', junk()]), pick(['ext4', 'tmpfs', 'nfs4', 'auto', junk()]), pick(['defaults', 'ro', 'size=1m', junk()])].slice(0, 2 + Math.floor(random() * 3)).join(random() < 0.5 ? ' ' : '\t')).join('\n');
  const files: Record<string, string> = {
    [CONFIG_FILES.roroot]: shellFile(),
    [CONFIG_FILES.fedora]: shellFile(),
    [CONFIG_FILES.rwtab]: rwtab(),
    [`${CONFIG_FILES.rwtabDir}/x`]: rwtab(),
    [CONFIG_FILES.fstab]: fstab(),
    [CONFIG_FILES.hosts]: junk(),
  };
  const cmdline = pick(['ro', 'ro noreadonlyroot', 'readonlyroot', `roroot.init=${junk()}`, `"${junk()}`, junk()]);
  return { random, pick, junk, files, cmdline };
}

const clean = (text: string, where: string) => {
  assert.not.match(text, /[\x00-\x08\x0b-\x1f\x7f-\x9f]/, `a control byte said: ${JSON.stringify(text.slice(0, 200))} (${where})`);
  assert.ok(text.length < 1200, `a line of ${text.length} characters (${where})`);
};

t(`${CASES} configs and device sets: no exception, file:line diagnostics, nothing executed or formatted that must not be`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'roroot-fuzz-'));
  const mark = join(dir, 'pwned');
  try {
    for (let seed = 1; seed <= CASES; seed++) {
      const { random, pick, junk, files, cmdline } = fuzz(seed, mark);
      const where = `seed ${seed}`;
      const config = assembleConfig((p) => files[p] ?? null, ['x', 'y.rpmsave'], cmdline);
      for (const d of config.diagnostics) {
        assert.ok(Object.keys(files).includes(d.file) || d.file === CONFIG_FILES.cmdline, `${where}: ${d.file}`);
        assert.ok(d.line >= 0 && d.line <= (files[d.file] ?? '').split('\n').length, `${where}: ${formatDiagnostic(d)}`);
        clean(formatDiagnostic(d), where);
      }
      const labels = ['roroot-rw', 'roroot-state', null];
      const devices = Array.from({ length: Math.floor(random() * 5) }, (_, i) =>
        disk(pick(['/dev/vda1', '/dev/vda2', '/dev/sdb', '/dev/sdb1', '/dev/sdc1']), `8:${i}`, { label: pick(labels), partuuid: pick(['c0ffee00-02', null]), partition: random() < 0.8, partitions: random() < 0.2 ? 2 : 0, claimed: random() < 0.2 ? 'EBUSY' : null }),
      );
      const f = facts({ blockDevices: devices, mounts: [mount('/', devices[0]?.number ?? '254:1', 'ext4', ['ro']), ...facts().mounts.slice(1)], kernelHostname: pick(['localhost', 'r1', junk()]), addresses: random() < 0.5 ? ['10.0.2.15'] : [], reverseName: random() < 0.5 ? junk() : null });
      const plan = planBoot(config, f);
      for (const text of [...plan.notes, ...plan.warnings, ...plan.configErrors]) clean(text, where);
      const all = (steps: Step[]): Step[] => flat(steps).flatMap((s) => [s, ...all(s.fallback ?? [])]);
      for (const s of all(plan.steps)) {
        clean(describe(s), where);
        if (s.kind === 'mkfs') {
          const d = devices.find((x) => x.path === s.device.path && x.number === s.device.number);
          assert.ok(d, `${where}: mkfs of a device not probed: ${s.device.path}`);
          assert.is(mkfsRefusal(config, f, d), null, `${where}: ${describe(s)}`);
          assert.not.ok(s.argv.includes('/dev/vda1') && f.mounts[0].device === d.number, `${where}: the root formatted`);
        }
      }
      const list = parseStateList('/var/lib/roroot/state/files', junk() + '\n' + files[CONFIG_FILES.rwtab]);
      for (const d of list.diagnostics) clean(formatDiagnostic(d), where);
      const files2 = planStateFiles(config, f, list.entries, '/var/lib/roroot/state/files');
      for (const text of [...files2.notes, ...files2.warnings]) clean(text, where);
    }
    assert.not.ok(existsSync(mark), 'a value of a config file was run');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

t.run();
