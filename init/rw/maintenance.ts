import type { ChildProcess } from 'node:child_process';
import { childProcess } from '../sys/child';
import { constants } from 'node:os';
import { RECORD_DIR } from '../config/own-paths';
import { adoptVolatile, before } from '../install/adopt';
import { Logger } from '../sys/log';
import { readMounts } from '../sys/probe';
import { readConfig } from '../sys/read-config';
import { hostPath } from '../sys/root-path';
import { run } from '../sys/spawn';
import { takeLock } from './lock';
import { withRootWritable } from './window';

// `roroot rw -- COMMAND`: the admin's read-write window. The root goes back
// to read-only whatever happens to COMMAND: every terminating signal roroot
// can catch is passed on to it and then the window is closed; when roroot
// itself dies (SIGKILL), the lock's supervisor closes it (rw/lock.ts).

export interface MaintenanceOptions {
  root: string;
  command: string[];
  kmsg: string | null;
  console: (line: string) => void;
}

// Every signal whose default action ends the process and that a process
// can catch (signal(7)); SIGKILL is the supervisor's.
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGPIPE', 'SIGALRM', 'SIGVTALRM', 'SIGPROF', 'SIGXCPU', 'SIGXFSZ', 'SIGIO', 'SIGPWR', 'SIGSYS', 'SIGTRAP', 'SIGABRT'] as const;
// After passing a signal on, how long COMMAND gets before SIGKILL: dpkg
// finishing the package it is unpacking takes seconds, not minutes.
const GRACE_MS = 30_000;

export async function maintenance(opts: MaintenanceOptions): Promise<number> {
  const { root, command } = opts;
  const log = new Logger(quiet(opts.console), opts.kmsg);
  const config = readConfig(root, '');
  const s = config.settings;
  const what = command.join(' ');
  if (!readMounts(root).some((m) => m.target === s.rwMount)) {
    log.error(`rw: ${s.rwMount} is not mounted (not booted by roroot?): nothing done`);
    return 1;
  }
  const lock = await takeLock(hostPath(root, `${s.rwMount}/${RECORD_DIR}/rw.lock`), what, hostPath(root, '/'), opts.kmsg);
  if (!lock.held) {
    log.error(`rw: a read-write window is open already (${lock.owner}): refused`);
    return 1;
  }

  let child: ChildProcess | null = null;
  let interrupted: NodeJS.Signals | null = null; // before COMMAND started: it never will
  const onSignal = (sig: NodeJS.Signals) => {
    interrupted ??= sig;
    log.warn(`rw: ${sig}: ${child ? 'passed on to the command; ' : ''}/ goes back to read-only`);
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill(sig);
      setTimeout(() => child?.kill('SIGKILL'), GRACE_MS).unref();
    }
  };
  for (const sig of SIGNALS) process.on(sig, onSignal);
  try {
    const was = before(root, config);
    const { value: code, window } = await withRootWritable({ root, scratch: s.rwMount, label: `rw: ${what}`, log }, async () => {
      const code = await new Promise<number>((resolve) => {
        if (interrupted) {
          log.warn(`rw: ${interrupted} before ${command[0]} started: not run`);
          resolve(128 + constants.signals[interrupted]);
          return;
        }
        child = childProcess().spawn(command[0], command.slice(1), { stdio: 'inherit' });
        child.on('error', (err: NodeJS.ErrnoException) => {
          log.error(`rw: ${command[0]}: ${err.code === 'ENOENT' ? 'command not found' : err.message}`);
          resolve(127);
        });
        child.on('exit', (c, sig) => resolve(c ?? 128 + (sig ? constants.signals[sig] : 0)));
      });
      child = null;
      try {
        await adoptVolatile(root, config, was, (line) => log.info(line));
      } catch (err) {
        log.error(`rw: keeping what the command added under volatile places: ${(err as Error).message}, continuing`);
      }
      // Before the remount: should it have to be retried, the data is safe.
      await run('sync', [], { timeoutSec: 300 });
      return code;
    });
    log.info(`rw: ${what}: exit ${code}`);
    return window.outcome === 'left-writable' && code === 0 ? 1 : code;
  } catch (err) {
    log.error(`rw: ${(err as Error).message}`);
    return 1;
  } finally {
    for (const sig of SIGNALS) process.off(sig, onSignal);
    lock.release();
    log.close();
  }
}

// After SIGHUP the terminal may be gone: writing to it must not end roroot
// before the root is read-only again. The kernel log still gets every line.
// roroot's own console (sys/stdout-line.ts) drops a line to an output gone,
// on process.stdout's errors too; this is for any other console it is given.
function quiet(write: (line: string) => void): (line: string) => void {
  return (line) => {
    try {
      write(line);
    } catch {
      // the console is gone
    }
  };
}
