import { closeSync, openSync, writeSync } from 'node:fs';

// Every line boot says goes to the console and to the kernel log, so that it
// is on the serial console while it happens and in `dmesg` afterwards. Lines
// are "roroot: <phase>: <what>"; /dev/kmsg records get a syslog level so
// errors stand out in `dmesg -l err`.

type Level = 'info' | 'warn' | 'error';
const KMSG_LEVEL: Record<Level, number> = { info: 6, warn: 4, error: 3 };

export class Logger {
  private kmsg: number | null = null;
  readonly lines: { level: Level; text: string }[] = [];

  constructor(
    private readonly console: (line: string) => void,
    kmsgPath: string | null,
  ) {
    if (!kmsgPath) return;
    try {
      this.kmsg = openSync(kmsgPath, 'a');
    } catch (err) {
      this.console(`roroot: log: cannot open ${kmsgPath} (${(err as NodeJS.ErrnoException).code}): console only`);
    }
  }

  info(text: string) {
    this.say('info', text);
  }
  warn(text: string) {
    this.say('warn', text);
  }
  error(text: string) {
    this.say('error', text);
  }

  private say(level: Level, text: string) {
    const line = `roroot: ${text}`;
    this.lines.push({ level, text });
    this.console(line);
    if (this.kmsg === null) return;
    try {
      writeSync(this.kmsg, `<${KMSG_LEVEL[level]}>${line}\n`);
    } catch {
      // A full or rate-limited kmsg must not stop the boot; the console has it.
    }
  }

  close() {
    if (this.kmsg !== null) closeSync(this.kmsg);
    this.kmsg = null;
  }
}
