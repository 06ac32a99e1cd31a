import { spawn as ptySpawn, type IPty } from 'node-pty';
import { qemuArgs, type QemuOptions } from './qemu';

// A QEMU guest driven on its serial console, as a person would: wait for
// text, type, read. Commands run through a shell and report their exit code
// with a marker the command line itself cannot match.

const ANSI = /\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\r/g;
export const plainText = (raw: string) => raw.replace(ANSI, '');

export class Guest {
  private raw = '';
  private seen = 0; // where the next expect() starts looking
  private exited: number | null = null;
  readonly started = Date.now();

  // Any pty with a serial console on it: QEMU's (boot), or a test's.
  constructor(private readonly pty: IPty) {
    pty.onData((d) => (this.raw += d));
    pty.onExit(({ exitCode }) => (this.exited = exitCode));
  }

  static boot(o: QemuOptions): Guest {
    return new Guest(ptySpawn('qemu-system-x86_64', qemuArgs(o), { cols: 240, rows: 60, env: process.env as Record<string, string> }));
  }

  // Every chunk the console prints from now on, as it comes.
  onOutput(listener: (chunk: string) => void) {
    this.pty.onData(listener);
  }

  get pid(): number {
    return this.pty.pid;
  }

  get running(): boolean {
    return this.exited === null;
  }

  // Escapes are stripped here, not per chunk: one can straddle two chunks.
  get console(): string {
    return plainText(this.raw);
  }

  private get text(): string {
    return this.console;
  }

  // The first match of re after what earlier expects consumed.
  async expect(re: RegExp, timeoutSec: number): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutSec * 1000;
    for (;;) {
      const m = re.exec(this.text.slice(this.seen));
      if (m) {
        this.seen += m.index + m[0].length;
        return m;
      }
      if (this.exited !== null) throw new Error(`QEMU exited (${this.exited}) while waiting for ${re}\n--- console ---\n${this.text.slice(-3000)}`);
      if (Date.now() > deadline) throw new Error(`no ${re} within ${timeoutSec} s\n--- console ---\n${this.text.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  type(line: string) {
    this.pty.write(line + '\r');
  }

  async login(user = 'root', password = 'roroot', timeoutSec = 240): Promise<number> {
    // Until dmesg -n 1 below, kernel messages and systemd's status text
    // share the console and can follow a prompt on its line ("Password: [
    // 118.996978] powernow_k8: ..." ended a campaign): prompts are found
    // where they are printed, not at the end of a line.
    await this.expect(/ login: /, timeoutSec);
    const at = Date.now();
    this.type(user);
    await this.expect(/Password: /, 30);
    this.type(password);
    await this.expect(/\w@\S+:\S*# /, 60);
    // Quiet kernel messages on the console, so that they do not land inside
    // command output; no echo of what we type, no bracketed paste.
    this.type("dmesg -n 1; stty -echo cols 240; bind 'set enable-bracketed-paste off'");
    await this.sh('true');
    return at - this.started;
  }

  async sh(command: string, timeoutSec = 60): Promise<{ out: string; code: number }> {
    const tag = Math.random().toString(36).slice(2, 8);
    this.type(`echo @@${tag}; ${command}; echo "@@${tag} rc=$?"`);
    const m = await this.expect(new RegExp(`@@${tag}\\n([\\s\\S]*?)@@${tag} rc=(\\d+)\\n`), timeoutSec);
    return { out: m[1], code: Number(m[2]) };
  }

  // Poweroff, and wait for QEMU to end (-no-reboot: a reboot ends it too).
  async poweroff(timeoutSec = 120) {
    this.type('poweroff');
    const deadline = Date.now() + timeoutSec * 1000;
    while (this.exited === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    if (this.exited === null) this.kill();
  }

  kill() {
    if (this.exited === null) this.pty.kill('SIGKILL');
  }
}
