// Where a guest's boot goes, from what the guest itself kept: the kernel
// log's timestamps (time since the kernel started), the boot stage's own
// record (`roroot status --json`), and the guest's uptime at its login
// prompt. Pure: text and numbers in, milliseconds out.

export interface StageRecord {
  started: string; // ISO, the guest's wall clock
  totalMs: number;
  atMs: number; // the stage's start on its steps' clock
  steps: { id: string; phase: string; command: string; atMs: number; ms: number }[];
}

export interface Timeline {
  firmwareMs: number; // power-on to the kernel: firmware, extlinux, loading kernel and initrd
  kernelMs: number; // the kernel, to /init
  initramfsMs: number; // /init to the root filesystem mounted (roroot's: DHCP too)
  toStageMs: number | null; // root mounted to the boot stage's start: run-init, the trampoline, node's start-up
  stage: StageRecord | null;
  toInitMs: number; // to the real init's first log line: from the boot stage's end, or (no roroot) from the root mount
  userspaceMs: number; // init to the login prompt
  loginMs: number; // power-on to the login prompt, as the host saw it
}

export interface GuestClock {
  loginMs: number; // host: QEMU started to the prompt
  uptimeAtPromptMs: number;
  bootEpochMs: number; // the guest's wall clock when its kernel started (date - uptime)
}

function stamp(dmesg: string, what: RegExp, name: string): number {
  const m = new RegExp(`^\\[\\s*(\\d+\\.\\d+)\\] .*${what.source}`, 'm').exec(dmesg);
  if (!m) throw new Error(`the guest's kernel log has no ${name} line (${what})`);
  return Number(m[1]) * 1000;
}

// To the microsecond, as the kernel log has them (no float noise).
const us = (ms: number) => Math.round(ms * 1000) / 1000;

export function timeline(dmesg: string, clock: GuestClock, record: StageRecord | null): Timeline {
  const init = stamp(dmesg, /Run \/init as init process/, '"Run /init"');
  const root = stamp(dmesg, /EXT4-fs \(\w+\): mounted filesystem/, 'root mount');
  const realInit = stamp(dmesg, /systemd\[1\]: /, 'systemd');
  const stageStart = record ? Date.parse(record.started) - clock.bootEpochMs : null;
  const from = stageStart === null ? root : stageStart + (record as StageRecord).totalMs;
  return {
    firmwareMs: us(clock.loginMs - clock.uptimeAtPromptMs),
    kernelMs: us(init),
    initramfsMs: us(root - init),
    toStageMs: stageStart === null ? null : us(stageStart - root),
    stage: record,
    toInitMs: us(realInit - from),
    userspaceMs: us(clock.uptimeAtPromptMs - realInit),
    loginMs: clock.loginMs,
  };
}

// The table's rows, in boot order.
export const PHASES: { name: string; ms: (t: Timeline) => number | null }[] = [
  { name: 'power-on to the kernel: firmware, extlinux, loading kernel and initrd', ms: (t) => t.firmwareMs },
  { name: 'the kernel, to /init', ms: (t) => t.kernelMs },
  { name: 'the initramfs, to the root mounted (roroot: with DHCP, for NFS in the boot stage)', ms: (t) => t.initramfsMs },
  { name: "to the boot stage's start: run-init, the trampoline, node's start-up, loading the bundle", ms: (t) => t.toStageMs },
  { name: 'the boot stage (its own record; its steps below)', ms: (t) => t.stage?.totalMs ?? null },
  { name: "to the real init's first log line (without roroot: from the root mount)", ms: (t) => t.toInitMs },
  { name: 'init (systemd) to the login prompt', ms: (t) => t.userspaceMs },
  { name: 'power-on to the login prompt', ms: (t) => t.loginMs },
];

// One figure per step of the boot stage over several boots: the steps by
// id, in the order of the first boot, each with when it started in the
// stage (the network lane's steps run beside the local ones), and the
// stage's time when no step ran (probes, planning).
export function stepSamples(stages: StageRecord[]): { label: string; fromMs: number[]; ms: number[] }[] {
  const rows = new Map<string, { label: string; fromMs: number[]; ms: number[] }>();
  for (const s of stages) {
    for (const step of s.steps) {
      const row = rows.get(step.id) ?? { label: `${step.phase}: ${step.command}`, fromMs: [], ms: [] };
      row.fromMs.push(round(step.atMs - s.atMs));
      row.ms.push(step.ms);
      rows.set(step.id, row);
    }
  }
  const outside = stages.map((s) => round(s.totalMs - covered(s.steps)));
  return [{ label: 'probes and planning (the stage outside its steps)', fromMs: stages.map(() => 0), ms: outside }, ...rows.values()];
}

const round = (ms: number) => Math.round(ms * 10) / 10;

// How long at least one of the steps ran: the union of their intervals.
function covered(steps: StageRecord['steps']): number {
  let total = 0;
  let end = -Infinity;
  for (const { atMs, ms } of [...steps].sort((a, b) => a.atMs - b.atMs)) {
    if (atMs + ms <= end) continue;
    total += atMs + ms - Math.max(atMs, end);
    end = atMs + ms;
  }
  return total;
}
