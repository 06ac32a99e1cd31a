// A command run on node's own process and pipe handles (the process_wrap,
// pipe_wrap and stream_wrap bindings node:child_process is built on),
// without loading node:child_process. Node 18 cannot put that module in a
// startup snapshot (sys/child.ts), and loading it at the boot stage's first
// spawn compiles net, dgram and the child process code: 14 ms natively,
// 180-270 ms in the QEMU guest under TCG, on the way to the scratch's mkfs;
// its ChildProcess and three streams then cost another ~40 ms a command
// there (a spawnSync of a command that does nothing: 70-94 ms through the
// module, 40-47 ms on the binding; 2026-12-02). run() (sys/spawn.ts)
// starts its commands here: all of the boot stage's but its detached NFS
// retry.
//
// process.binding is deprecated in its documentation only (DEP0111; node
// 18 and 20 give the four bindings used here); where it or one of them is
// missing, processHandles() says null and the caller uses
// node:child_process instead.

export interface HandleRun {
  code: number;
  signal: string | null;
  stdout: string;
  stderr: string;
}

interface Handle {
  close(callback?: () => void): void;
  unref(): void;
}
interface PipeHandle extends Handle {
  onread: (chunk: ArrayBuffer | undefined) => void; // a function: node aborts on anything else
  readStart(): number;
}
interface ProcessHandle extends Handle {
  onexit: (code: number, signal: string) => void;
  spawn(options: object): number;
  kill(signal: number): number;
}
interface Bindings {
  Process: new () => ProcessHandle;
  Pipe: new (type: number) => PipeHandle;
  pipeSocket: number;
  state: Int32Array;
  readBytes: number;
  bufferOffset: number;
  errname: (errno: number) => string;
}

let bindings: Bindings | null | undefined;

export function processHandles(): Bindings | null {
  if (bindings !== undefined) return bindings;
  try {
    const binding = (process as unknown as { binding(name: string): Record<string, any> }).binding;
    const { Process } = binding('process_wrap');
    const { Pipe, constants } = binding('pipe_wrap');
    const { streamBaseState, kReadBytesOrError, kArrayBufferOffset } = binding('stream_wrap');
    const { errname } = binding('uv');
    const ok = [Process, Pipe, errname].every((f) => typeof f === 'function') && streamBaseState instanceof Int32Array && typeof constants?.SOCKET === 'number';
    bindings = ok ? { Process, Pipe, pipeSocket: constants.SOCKET, state: streamBaseState, readBytes: kReadBytesOrError, bufferOffset: kArrayBufferOffset, errname } : null;
  } catch {
    bindings = null;
  }
  return bindings;
}

export interface Started {
  done: Promise<HandleRun>;
  cancel: () => void;
}

export class SpawnError extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

// `command` looked up in PATH as execvp(3) does; stdin a pipe closed at
// once (the command reads end of file; never /dev/null, which early in
// boot may not exist), stdout and stderr read to their end. Settles once
// the command has exited and both pipes are at their end, as
// child_process's 'close' does; `cancel` kills it (SIGKILL) and stops
// reading without waiting for its exit.
export function spawnOnHandles(b: Bindings, command: string, args: string[], env: Record<string, string | undefined>): Started {
  const child = new b.Process();
  const pipes = [new b.Pipe(b.pipeSocket), new b.Pipe(b.pipeSocket), new b.Pipe(b.pipeSocket)];
  const output: Buffer[][] = [[], []];
  const reading = [false, true, true];
  let running = false;
  let cancelled = false;
  let exit = { code: 0, signal: null as string | null };
  let settle: (r: HandleRun) => void = () => {};
  const stopReading = (fd: number) => {
    if (!reading[fd]) return;
    reading[fd] = false;
    pipes[fd].onread = () => {};
    pipes[fd].close();
  };
  const end = () => {
    if (!running && !reading[1] && !reading[2] && !cancelled) settle({ ...exit, stdout: Buffer.concat(output[0]).toString(), stderr: Buffer.concat(output[1]).toString() });
  };
  const done = new Promise<HandleRun>((resolve, reject) => {
    settle = resolve;
    child.onexit = (code, signal) => {
      running = false;
      exit = { code, signal: signal || null };
      child.close();
      end();
    };
    const err = child.spawn({
      file: command,
      args: [command, ...args],
      envPairs: Object.entries(env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`])),
      stdio: pipes.map((handle, fd) => ({ type: 'pipe', readable: fd === 0, writable: fd > 0, handle })),
    });
    pipes[0].close(); // the command's stdin: at its end at once
    if (err !== 0) {
      child.close();
      stopReading(1);
      stopReading(2);
      reject(new SpawnError(b.errname(err)));
      return;
    }
    running = true;
    for (const fd of [1, 2]) {
      pipes[fd].onread = (chunk) => {
        const n = b.state[b.readBytes];
        if (n > 0 && chunk) output[fd - 1].push(Buffer.from(chunk, b.state[b.bufferOffset], n));
        if (n >= 0) return;
        stopReading(fd); // end of file, or a read error: nothing more comes
        end();
      };
      pipes[fd].readStart();
    }
  });
  const cancel = () => {
    cancelled = true;
    if (running) {
      child.kill(9);
      child.unref();
    }
    stopReading(1);
    stopReading(2);
  };
  return { done, cancel };
}
