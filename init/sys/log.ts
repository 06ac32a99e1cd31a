import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { printable } from '../config/diagnostic';

// Every line boot says goes to the console and to the kernel log, so that it
// is on the serial console while it happens and in `dmesg` afterwards. Lines
// are "roroot: <phase>: <what>"; /dev/kmsg records get a syslog level so
// errors stand out in `dmesg -l err`. Before /dev is mounted there is no
// /dev/kmsg: lines are kept and written once openKmsg() succeeds.

// Durations in log lines: tenths below 10 ms, whole ms above.
export function formatMs(ms: number): string {
  return ms < 10 ? ms.toFixed(1) : String(Math.round(ms));
}

// debug: the kernel log only, below the console's level (the NFS retry's
// every attempt, which on the serial console landed over the login prompt).
type Level = 'debug' | 'info' | 'notice' | 'warn' | 'error';
const KMSG_LEVEL: Record<Level, number> = { debug: 7, info: 6, notice: 5, warn: 4, error: 3 };
// The kernel rate-limits writes to /dev/kmsg per open file: 10 records per
// 5 s (DEFAULT_RATELIMIT_BURST), the rest dropped as "suppressed due to
// ratelimiting". A boot logs more steps than that at once, and every one
// belongs in the kernel log, so the file is reopened after each 10.
const KMSG_BURST = 10;
// /dev/kmsg takes records up to ~1 KiB (LOG_LINE_MAX); longer ones fail.
const LINE_MAX = 900;

// Never O_CREAT: before /dev is mounted that would leave a plain file called
// kmsg on the root.
function openForAppend(path: string): number {
  return openSync(path, constants.O_WRONLY | constants.O_APPEND);
}

export class Logger {
  private kmsg: number | null = null;
  private written = 0; // records on the current open file
  private pending: string[] = [];
  readonly lines: { level: Level; text: string }[] = [];

  // quiet: every line at debug level but notices (the background NFS
  // retry: each attempt in the kernel log, only a change of state said).
  constructor(
    private readonly console: (line: string) => void,
    private readonly kmsgPath: string | null,
    private readonly quiet = false,
  ) {
    this.openKmsg();
  }

  // True when kernel log lines are being written (or none were asked for).
  openKmsg(): boolean {
    if (!this.kmsgPath || this.kmsg !== null) return true;
    try {
      this.kmsg = openForAppend(this.kmsgPath);
    } catch {
      return false;
    }
    for (const record of this.pending) this.writeKmsg(record);
    this.pending = [];
    return true;
  }

  debug(text: string) {
    this.say('debug', text);
  }
  info(text: string) {
    this.say('info', text);
  }
  notice(text: string) {
    this.say('notice', text);
  }
  warn(text: string) {
    this.say('warn', text);
  }
  error(text: string) {
    this.say('error', text);
  }

  // What a line says may come from a store or the network: control bytes
  // never reach the console raw, and no line is longer than LINE_MAX.
  private say(said: Level, raw: string) {
    const level = this.quiet && said !== 'notice' ? 'debug' : said;
    const text = printable(raw, LINE_MAX);
    const line = `roroot: ${text}`;
    this.lines.push({ level, text });
    if (level !== 'debug') this.console(line);
    const record = `<${KMSG_LEVEL[level]}>${line}\n`;
    if (this.kmsg !== null) this.writeKmsg(record);
    else if (this.kmsgPath) this.pending.push(record);
  }

  private writeKmsg(record: string) {
    try {
      if (this.written === KMSG_BURST) {
        closeSync(this.kmsg as number);
        this.kmsg = openForAppend(this.kmsgPath as string);
        this.written = 0;
      }
      writeSync(this.kmsg as number, record);
      this.written++;
    } catch {
      // A full or rate-limited kmsg must not stop the boot; the console has it.
    }
  }

  close() {
    if (this.kmsgPath && this.kmsg === null && this.pending.length > 0) {
      this.console(`roroot: log: cannot open ${this.kmsgPath}: ${this.pending.length} lines are on the console only`);
    }
    if (this.kmsg !== null) closeSync(this.kmsg);
    this.kmsg = null;
  }
}
