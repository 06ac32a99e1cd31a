import { quoted, type Diagnostic } from './diagnostic';

// The kernel command line (/proc/cmdline). roroot looks at:
//   readonlyroot     turn roroot on even if the config says READONLY=no
//   noreadonlyroot   turn it off: boot touches nothing and hands over at once
//   roroot.init=P    the init to exec after the boot stage (default /sbin/init)
//   roroot.*=        reserved for roroot; unknown ones are reported
// Words are separated by blanks; the kernel lets a value contain blanks when
// it is in double quotes (param="a b"), so we honour those quotes too.

export interface Cmdline {
  words: string[];
  readonlyroot: boolean | null; // null: the command line does not say
  init: string | null;
  diagnostics: Diagnostic[];
}

const KNOWN_RORORT = ['roroot.init'];

export function parseCmdline(text: string, file = '/proc/cmdline'): Cmdline {
  const words = splitCmdline(text);
  const diagnostics: Diagnostic[] = [];
  let readonlyroot: boolean | null = null;
  let init: string | null = null;
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
    }
  }
  return { words, readonlyroot, init, diagnostics };
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
