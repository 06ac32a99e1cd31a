import { childProcess } from './child';
import { commandLine } from '../plan/argv';
import { processHandles, SpawnError, spawnOnHandles, type HandleRun, type Started } from './process-handle';

// Runs a command to completion and turns a failure into the message an
// admin needs: the command line, then its own last stderr line, or how it
// died. Every command is bounded in time: at boot a failing disk or a stuck
// mount must not keep the router from reaching its init.

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

// "mount -n -t ext4 /dev/vda2 /x: wrong fs type (exit 32)": `command` is the
// command line, `detail` what went wrong.
export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly detail: string,
  ) {
    super(command ? `${command}: ${detail}` : detail);
  }
}

export interface RunOptions {
  timeoutSec?: number; // default DEFAULT_TIMEOUT_SEC
  input?: string; // written to stdin
  env?: Record<string, string>; // added to this process's environment
}

export const DEFAULT_TIMEOUT_SEC = 60;

export function run(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const line = commandLine([command, ...args]);
  const timeoutSec = options.timeoutSec ?? DEFAULT_TIMEOUT_SEC;
  const env = options.env ? { ...process.env, ...options.env } : process.env;
  const handles = processHandles();
  // Input for stdin (sfdisk's script, from roroot flash) goes through
  // node:child_process, whose streams write it; the boot stage gives none.
  const started = handles && options.input === undefined ? spawnOnHandles(handles, command, args, env) : spawnChildProcess(command, args, env, options.input ?? '');
  return new Promise((resolve, reject) => {
    // On timeout, do not wait for the child to exit: a mount(2) of an NFS
    // server that does not answer can sit in the kernel uninterruptibly, and
    // boot must go on. The stuck process is left to finish or die alone.
    const timer = setTimeout(() => {
      started.cancel();
      reject(new CommandError(line, `timed out after ${timeoutSec} s`));
    }, timeoutSec * 1000);
    started.done.then(
      (r) => {
        clearTimeout(timer);
        if (r.signal) reject(new CommandError(line, `killed by ${r.signal}`));
        else resolve({ code: r.code, stdout: r.stdout, stderr: r.stderr });
      },
      (err: SpawnError) => {
        clearTimeout(timer);
        reject(new CommandError(line, err.code === 'ENOENT' ? `${command}: command not found` : `spawn ${command} ${err.code}`));
      },
    );
  });
}

// The same on node:child_process: settles as spawnOnHandles does, and
// `cancel` likewise kills the command and stops reading.
function spawnChildProcess(command: string, args: string[], env: NodeJS.ProcessEnv, input: string): Started {
  // Pipes only: 'ignore' would open /dev/null, and early in boot, before
  // /dev is mounted, there is none; every spawn then failed with ENOENT.
  const child = childProcess().spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env });
  child.stdin.on('error', () => {}); // EPIPE: a command that does not read its input is not a failure
  child.stdin.end(input);
  let stdout = '';
  let stderr = '';
  let cancelled = false;
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<HandleRun>((resolve, reject) => {
    child.on('error', (err: NodeJS.ErrnoException) => reject(new SpawnError(err.code ?? err.message)));
    child.on('close', (code, signal) => {
      if (!cancelled) resolve({ code: code ?? 0, signal, stdout, stderr });
    });
  });
  const cancel = () => {
    cancelled = true;
    child.kill('SIGKILL');
    child.stdout.destroy();
    child.stderr.destroy();
    child.unref();
  };
  return { done, cancel };
}

// util-linux 2.38's mount follows every error with this line, which says
// nothing about what went wrong.
const HINT = /dmesg\(1\) may have more information/;

// Like run(), but a non-zero exit is an error carrying stderr's last line.
export async function runChecked(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const result = await run(command, args, options);
  if (result.code !== 0) {
    const lastOf = (text: string) => text.split('\n').map((l) => l.trim()).filter((l) => l && !HINT.test(l)).pop();
    const last = lastOf(result.stderr) || lastOf(result.stdout) || '';
    throw new CommandError(commandLine([command, ...args]), `${last ? last.replace(/^[\w.-]+: /, '') : 'failed'} (exit ${result.code})`);
  }
  return result;
}
