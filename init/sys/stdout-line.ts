import { writeSync } from 'node:fs';

// A line on standard output, written with write(2) itself. node's
// process.stdout is a stream built on its first use (a tty.WriteStream on
// the serial console): in the rwtab boot (natively, 2026-12) the stage's
// first console lines took 1.8 ms instead of 0.8 while it was built. And an
// EPIPE or EIO from an output that went away (the reader of `roroot plan |
// head` exiting, a serial line hung up) came back from the stream as an
// 'error' event nobody handled, which ended the process; here such a line
// is dropped, and a boot's lines are in the kernel log too. Only a full
// non-blocking descriptor (EAGAIN: a parent set O_NONBLOCK on it) is left to
// the stream, which waits for it, and so is every line after it, in order.
let viaStream = false;

export function printLine(line: string): void {
  const data = Buffer.from(`${line}\n`);
  if (viaStream) {
    process.stdout.write(data);
    return;
  }
  let done = 0;
  try {
    while (done < data.length) done += writeSync(1, data, done);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') return;
    viaStream = true;
    process.stdout.on('error', () => {}); // as above: an output gone is not the end of roroot
    process.stdout.write(data.subarray(done));
  }
}
