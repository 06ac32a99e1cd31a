import { spawn } from 'node:child_process';

// Runs a command to completion and turns a failure into the message an
// admin needs: the command's own last stderr line, or how it died.

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class CommandError extends Error {}

export interface RunOptions {
  timeoutSec?: number;
  input?: string; // written to stdin
}

export function run(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    // Pipes only: 'ignore' would open /dev/null, and early in boot, before
    // /dev is mounted, there is none; every spawn then failed with ENOENT.
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin.on('error', () => {}); // EPIPE: a command that does not read its input is not a failure
    child.stdin.end(options.input ?? '');
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // On timeout, do not wait for the child to exit: a mount(2) of an NFS
    // server that does not answer can sit in the kernel uninterruptibly, and
    // boot must go on. The stuck process is left to finish or die alone.
    const timer = options.timeoutSec
      ? setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
          child.stdout.destroy();
          child.stderr.destroy();
          child.unref();
          reject(new CommandError(`timed out after ${options.timeoutSec} s`));
        }, options.timeoutSec * 1000)
      : null;
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (timer) clearTimeout(timer);
      reject(new CommandError(err.code === 'ENOENT' ? `${command}: command not found` : `${command}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      if (timedOut) return;
      if (signal) reject(new CommandError(`killed by ${signal}`));
      else resolve({ code: code ?? 0, stdout, stderr });
    });
  });
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
    throw new CommandError(`${last ? last.replace(/^[\w.-]+: /, '') : 'failed'} (exit ${result.code})`);
  }
  return result;
}
