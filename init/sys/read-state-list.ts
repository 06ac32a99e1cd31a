import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { STATE_LIST_MAX_BYTES } from '../config/state-list';
import { hostPath, resolveInRoot } from './root-path';

// The state's files list, read as what it is: data from a store. Opened
// without following a symlink (a list linked to /etc/shadow must not be
// read, let alone echoed) and without blocking (a FIFO would hang the boot
// forever), and only a regular file of at most STATE_LIST_MAX_BYTES.
export function readStateList(root: string, stateMount: string): { text: string } | { missing: true } | { error: string } {
  const dir = resolveInRoot(root, stateMount) ?? stateMount;
  const file = hostPath(root, `${dir}/files`);
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { missing: true };
    return { error: code === 'ELOOP' ? 'is a symlink: not read' : `cannot open: ${code}` };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { error: 'is not a regular file: not read' };
    if (st.size > STATE_LIST_MAX_BYTES) return { error: `is ${st.size} bytes, more than ${STATE_LIST_MAX_BYTES}: not read` };
    const buf = Buffer.alloc(st.size);
    let got = 0;
    while (got < st.size) {
      const n = readSync(fd, buf, got, st.size - got, got);
      if (n === 0) break;
      got += n;
    }
    return { text: buf.subarray(0, got).toString('utf8') };
  } finally {
    closeSync(fd);
  }
}
