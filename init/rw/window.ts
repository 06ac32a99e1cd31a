import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { topMount, type Mount } from '../plan/facts';
import { formatMs, type Logger } from '../sys/log';
import { majorMinor, readMounts } from '../sys/probe';
import { hostPath } from '../sys/root-path';
import { CommandError, runChecked } from '../sys/spawn';
import { readWindows, recordWindow, type WindowRecord } from '../record';

// The read-write window: the one moment the root is writable, and so the
// one moment a power cut can hurt it. Everything that can be done before it
// is; inside it, only the writes that must reach the root. It is always
// closed: the remount back to read-only is retried, and when it still fails
// the log says so loudly and names who holds files open for writing.

export interface WindowOptions {
  root: string; // --root: the system whose / is opened
  scratch: string; // system path of the scratch mount, where windows are recorded
  label: string; // what the window is for, e.g. "modules.dep"
  log: Logger;
}

// Closing is retried this many times, waiting a little longer each time: a
// writer that is just finishing (dpkg's last fsync, a daemon's log rotation)
// lets go within a second or two.
const CLOSE_ATTEMPTS = 6;
const CLOSE_FIRST_WAIT_MS = 100;

export async function withRootWritable<T>(opts: WindowOptions, body: () => Promise<T>): Promise<{ value: T; window: WindowRecord }> {
  const { root, log, label } = opts;
  const rootMount = topMount(readMounts(root), '/');
  if (!rootMount) throw new CommandError('', `no mount for / under ${root}: cannot open a read-write window`);
  const target = hostPath(root, '/');
  const started = new Date();
  const t0 = process.hrtime.bigint();
  const before = diskWrites(rootMount);
  const last = readWindows(root, opts.scratch).pop();
  if (!rootMount.options.includes('ro')) {
    if (!last || (last.outcome !== 'open' && last.outcome !== 'left-writable')) {
      // noreadonlyroot, or an admin's own remount: not ours to close.
      log.warn(`rw-window: ${label}: / is writable already, running without a window`);
      const value = await body();
      return { value, window: record(opts, { label, started: started.toISOString(), ms: 0, writes: null, outcome: 'already-writable' }, false) };
    }
    log.warn(`rw-window: ${label}: / was left writable by "${last.label}" (${last.started}): closing it after this one`);
  } else {
    if (last?.outcome === 'open') log.warn(`rw-window: the window of "${last.label}" (${last.started}) ended with its owner (killed?); its supervisor made / read-only again`);
    // Said before the remount, never after: the power-cut harness takes this
    // line as the start of the window, and the root's first write must
    // come after it on the console.
    log.info(`rw-window: ${label}: opening`);
    await runChecked('mount', ['-n', '-o', 'remount,rw', target]).catch((err: CommandError) => {
      throw new CommandError('mount -n -o remount,rw /', err.detail);
    });
  }
  const open: WindowRecord = { label, started: started.toISOString(), ms: 0, writes: null, outcome: 'open' };
  record(opts, open, false);
  let value: T;
  try {
    value = await body();
  } finally {
    await close(target, rootMount, opts);
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const after = diskWrites(rootMount);
  const writes = before && after ? { ios: after.ios - before.ios, sectors: after.sectors - before.sectors } : null;
  const window = record(opts, { ...open, ms, writes, outcome: stillWritable(root) ? 'left-writable' : 'closed' }, true);
  const counted = writes ? `, ${writes.ios} writes, ${writes.sectors / 2} KiB to ${rootMount.source}` : '';
  if (window.outcome === 'closed') log.info(`rw-window: ${label} (${formatMs(ms)} ms${counted})`);
  return { value, window };
}

async function close(target: string, rootMount: Mount, opts: WindowOptions) {
  let wait = CLOSE_FIRST_WAIT_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      // remount,ro syncs the filesystem itself before it turns read-only.
      await runChecked('mount', ['-n', '-o', 'remount,ro', target]);
      return;
    } catch (err) {
      const reason = err instanceof CommandError ? err.detail : (err as Error).message;
      if (attempt === CLOSE_ATTEMPTS) {
        const who = writersOn(rootMount).join(', ') || 'no process found';
        opts.log.error(`rw-window: ${opts.label}: mount -n -o remount,ro /: ${reason}; / IS STILL WRITABLE (open for writing: ${who}); run "mount -o remount,ro /" when they are done`);
        return;
      }
      opts.log.warn(`rw-window: ${opts.label}: mount -n -o remount,ro /: ${reason}, retrying in ${wait} ms`);
      await new Promise((r) => setTimeout(r, wait));
      wait *= 2;
    }
  }
}

function stillWritable(root: string): boolean {
  const m = topMount(readMounts(root), '/');
  return !!m && !m.options.includes('ro');
}

function record(opts: WindowOptions, window: WindowRecord, replaceLast: boolean): WindowRecord {
  try {
    recordWindow(opts.root, opts.scratch, window, replaceLast);
  } catch (err) {
    opts.log.warn(`rw-window: cannot record the window: ${(err as Error).message}`);
  }
  return window;
}

// Completed write requests and sectors of the root's block device, from
// /sys/dev/block/MAJ:MIN/stat (Documentation/block/stat.rst: fields 5 and 7).
// Null where the device has no such file (a root that is not a block device).
function diskWrites(m: Mount): { ios: number; sectors: number } | null {
  try {
    const f = readFileSync(`/sys/dev/block/${m.device}/stat`, 'utf8').trim().split(/\s+/).map(Number);
    return { ios: f[4], sectors: f[6] };
  } catch {
    return null;
  }
}

// "pid 812 (dpkg) /var/lib/dpkg/lock": every file on the root's filesystem
// open for writing, found through /proc/PID/fd and fdinfo's flags.
function writersOn(m: Mount): string[] {
  const out: string[] = [];
  for (const pid of safeList('/proc').filter((p) => /^\d+$/.test(p))) {
    for (const fd of safeList(`/proc/${pid}/fd`)) {
      try {
        const flags = parseInt(/flags:\s*(\d+)/.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'))?.[1] ?? '0', 8);
        if ((flags & 3) === 0) continue; // O_RDONLY
        if (majorMinor(statSync(`/proc/${pid}/fd/${fd}`).dev) !== m.device) continue;
        const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
        out.push(`pid ${pid} (${comm}) ${readlinkSync(`/proc/${pid}/fd/${fd}`)}`);
      } catch {
        // the process or the fd went away meanwhile
      }
    }
  }
  return out;
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
