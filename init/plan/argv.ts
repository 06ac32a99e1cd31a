// The commands boot runs, built in one place so that the plan shows the
// exact argv the executor will run: `mount -n` always (the seed: /etc/mtab
// is /proc/mounts, nothing writes it), and mkfs with every option.

// Every external command of a boot has a time limit: a failing disk or a
// stuck command must never keep the router from reaching its init.
export const TIMEOUT_SEC = { mount: 30, mkfs: 120, fill: 120, umount: 30 } as const;

export function mountArgv(o: { fstype?: string | null; options?: string[]; bind?: boolean; source: string; target: string }): string[] {
  return ['mount', '-n', ...(o.bind ? ['--bind'] : []), ...(o.fstype ? ['-t', o.fstype] : []), ...(o.options && o.options.length > 0 ? ['-o', o.options.join(',')] : []), o.source, o.target];
}

export type ScratchFs = 'ext2' | 'ext3' | 'ext4';

// -F: mke2fs asks before it overwrites a filesystem it recognises, and
// there is nobody to answer at boot; once, it still refuses a mounted
// device (twice would not). -m 0: no blocks reserved for root on a scratch
// space. -E nodiscard: discarding a whole partition at every boot costs
// seconds on some flash and buys nothing. A journal protects nothing on a
// filesystem re-made at every boot, and costs writes.
export function mkfsArgv(o: { fstype: ScratchFs; label: string | null; uuid: string | null; populate: string | null; device: string }): string[] {
  return [
    `mkfs.${o.fstype}`,
    '-q',
    '-F',
    '-m',
    '0',
    '-E',
    'nodiscard',
    ...(o.fstype === 'ext4' ? ['-O', '^has_journal'] : []),
    ...(o.label ? ['-L', o.label] : []),
    ...(o.uuid ? ['-U', o.uuid] : []),
    ...(o.populate ? ['-d', o.populate] : []),
    o.device,
  ];
}

// A word as a shell would need it typed.
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./^-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export function commandLine(argv: string[]): string {
  return argv.map(shellWord).join(' ');
}
