import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

// A shell that runs commands for this process, one at a time: tier 1 runs
// e2fsck a few hundred times a minute, and forking this process (hundreds
// of MiB of sector tables) for each cost more than the check itself.

export interface Ran {
  status: number;
  out: string; // stdout and stderr, as they came
}

const quote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;

export class Shell {
  private readonly sh: ChildProcessWithoutNullStreams;
  private out = '';
  private wake: (() => void) | null = null;
  private exited: string | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  constructor() {
    this.sh = spawn('sh', [], { stdio: ['pipe', 'pipe', 'pipe'] });
    const take = (d: Buffer) => {
      this.out += d.toString('utf8');
      this.wake?.();
    };
    this.sh.stdout.on('data', take);
    this.sh.stderr.on('data', take);
    this.sh.on('exit', (code, signal) => {
      this.exited = `sh exited (${signal ?? code})`;
      this.wake?.();
    });
  }

  run(argv: string[]): Promise<Ran> {
    const next = this.queue.then(() => this.one(argv));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async one(argv: string[]): Promise<Ran> {
    const tag = `@@ran-${Math.random().toString(36).slice(2)}`;
    this.out = '';
    this.sh.stdin.write(`${argv.map(quote).join(' ')} </dev/null 2>&1; printf '\\n${tag} %d\\n' $?\n`);
    const end = new RegExp(`\\n${tag} (\\d+)\\n`);
    for (;;) {
      const m = end.exec(this.out);
      if (m) return { status: Number(m[1]), out: this.out.slice(0, m.index) };
      if (this.exited) throw new Error(`${argv.join(' ')}: ${this.exited}`);
      await new Promise<void>((r) => (this.wake = r));
      this.wake = null;
    }
  }

  close() {
    this.sh.stdin.end();
  }
}
