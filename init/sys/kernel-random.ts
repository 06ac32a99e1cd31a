import { closeSync, openSync, readSync } from 'node:fs';
import { nodeCrypto } from './crypto';

// Random bytes from the kernel's generator, for an identity made at boot
// (a machine id, a random seed). /dev/random has had getrandom(2)'s
// meaning since Linux 5.6: it waits only until the generator is seeded,
// then never blocks; /dev/urandom would not wait at all. Read directly, not
// through node:crypto, which the boot stage does not load (sys/crypto.ts).
// This machine's /dev whatever tree the boot stage works on (the kernel is
// the same); a /dev with no such node (a static one without it) falls
// back to OpenSSL's generator, which waits for the same seeding.
export function kernelRandom(length: number, device = '/dev/random'): Buffer {
  let fd: number;
  try {
    fd = openSync(device, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    return nodeCrypto().randomBytes(length);
  }
  try {
    const b = Buffer.alloc(length);
    for (let got = 0; got < length; ) {
      const n = readSync(fd, b, got, length - got, null);
      if (n === 0) throw new Error(`${device}: end of file after ${got} of ${length} bytes`);
      got += n;
    }
    return b;
  } finally {
    closeSync(fd);
  }
}
