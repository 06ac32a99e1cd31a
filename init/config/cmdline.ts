import { quoted, type Diagnostic } from './diagnostic';

// The kernel command line (/proc/cmdline). roroot looks at:
//   readonlyroot     turn roroot on even if the config says READONLY=no
//   noreadonlyroot   turn it off: boot touches nothing and hands over at once
//   roroot.init=P    the init to exec after the boot stage (default /sbin/init)
//   roroot.slot=a|b  the root slot GRUB booted (SLOTS=2 boards: roroot upgrade)
//   roroot.boot= roroot.slot_a= roroot.slot_b= roroot.rw_device=
//                    the disk's own devices (PARTUUID=...), written into
//                    grub.cfg by roroot flash: a slot's image comes from an
//                    update and cannot know the disk it lands on
//   roroot.*=        reserved for roroot; unknown ones are reported
// Words are separated by blanks; the kernel lets a value contain blanks when
// it is in double quotes (param="a b"), so we honour those quotes too.

export interface Cmdline {
  words: string[];
  readonlyroot: boolean | null; // null: the command line does not say
  init: string | null;
  slot: 'a' | 'b' | null;
  devices: { boot: string | null; a: string | null; b: string | null; rw: string | null };
  diagnostics: Diagnostic[];
}

const DEVICES = { 'roroot.boot': 'boot', 'roroot.slot_a': 'a', 'roroot.slot_b': 'b', 'roroot.rw_device': 'rw' } as const;
const KNOWN_RORORT = ['roroot.init', 'roroot.slot', ...Object.keys(DEVICES)];

export function parseCmdline(text: string, file = '/proc/cmdline'): Cmdline {
  const words = splitCmdline(text);
  const diagnostics: Diagnostic[] = [];
  let readonlyroot: boolean | null = null;
  let init: string | null = null;
  let slot: Cmdline['slot'] = null;
  const devices: Cmdline['devices'] = { boot: null, a: null, b: null, rw: null };
  for (const word of words) {
    // Fedora's rc.sysinit tests readonlyroot first and noreadonlyroot second,
    // so noreadonlyroot wins when both are given; so it does here.
    if (word === 'readonlyroot' && readonlyroot === null) readonlyroot = true;
    if (word === 'noreadonlyroot') readonlyroot = false;
    if (!word.startsWith('roroot.')) continue;
    const eq = word.indexOf('=');
    const key = eq < 0 ? word : word.slice(0, eq);
    const value = eq < 0 ? '' : word.slice(eq + 1);
    if (!KNOWN_RORORT.includes(key)) {
      diagnostics.push({ file, line: 0, message: `unknown option ${quoted(key)} (known: ${KNOWN_RORORT.join(', ')})` });
    } else if (key === 'roroot.init') {
      if (value.startsWith('/')) init = value;
      else diagnostics.push({ file, line: 0, message: `roroot.init= needs an absolute path, got ${quoted(value)}` });
    } else if (key === 'roroot.slot') {
      if (value === 'a' || value === 'b') slot = value;
      else diagnostics.push({ file, line: 0, message: `roroot.slot= needs a or b, got ${quoted(value)}` });
    } else {
      const name = DEVICES[key as keyof typeof DEVICES];
      if (/^PARTUUID=[0-9a-fA-F-]+$/.test(value)) devices[name] = value;
      else diagnostics.push({ file, line: 0, message: `${key}= needs PARTUUID=..., got ${quoted(value)}` });
    }
  }
  return { words, readonlyroot, init, slot, devices, diagnostics };
}

function splitCmdline(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inQuotes = false;
  let started = false;
  for (const c of text) {
    if (c === '"') {
      inQuotes = !inQuotes;
      started = true;
    } else if (!inQuotes && (c === ' ' || c === '\t' || c === '\n')) {
      if (started) words.push(word);
      word = '';
      started = false;
    } else {
      word += c;
      started = true;
    }
  }
  if (started) words.push(word);
  return words;
}
