import type { Slot } from '../upgrade/boot-state';

// grub.cfg of a board with two root slots (SLOTS=2), written by roroot
// flash on the boot partition. GRUB reads the two copies of the boot record
// and the tries count (init/upgrade/boot-state.ts says why a cut can never
// leave neither slot to boot), boots the slot on trial while it has tries
// left, counting one down before it boots it (so that a kernel that panics
// or hangs spends its tries and the old slot boots again), and the default
// slot otherwise. GRUB's script has no arithmetic: the count goes down by
// a table.

export const STATE_FILES = ['/roroot/state0', '/roroot/state1'] as const;
export const TRIES_FILE = '/roroot/tries';

export interface GrubSlot {
  slot: Slot;
  partition: number; // msdos partition number on hd0
  partuuid: string; // the slot's PARTUUID=...
}

export function grubCfg(o: { slots: GrubSlot[]; append: string; console: { unit: number; speed: number } }): string {
  const down = Array.from({ length: 9 }, (_, i) => `${i === 0 ? 'if' : 'elif'} [ "$tries" = ${i + 1} ]; then set tries=${i}`).join('; ');
  return [
    '# Written by roroot flash for this disk: which slot boots (see roroot upgrade --help).',
    `serial --unit=${o.console.unit} --speed=${o.console.speed}`,
    'terminal_input serial',
    'terminal_output serial',
    'set timeout=0',
    'insmod part_msdos',
    'insmod ext2',
    'insmod loadenv',
    'insmod test',
    ...STATE_FILES.map((f) => `load_env -f ${f}`),
    `load_env -f ${TRIES_FILE}`,
    'set r=none',
    'if [ -n "$s0_seq" -a "$s0_seq" = "$s0_check" ]; then set r=0; fi',
    'if [ -n "$s1_seq" -a "$s1_seq" = "$s1_check" ]; then',
    '  if [ "$r" = none ]; then set r=1; elif [ "$s1_seq" -gt "$s0_seq" ]; then set r=1; fi',
    'fi',
    'set slot=a',
    'set trial=none',
    'if [ "$r" = 0 ]; then set slot="$s0_default"; set trial="$s0_trial"; fi',
    'if [ "$r" = 1 ]; then set slot="$s1_default"; set trial="$s1_trial"; fi',
    'set dflt="$slot"',
    'if [ "$trial" = a -o "$trial" = b ]; then',
    '  if [ -n "$tries" -a "$tries" != 0 ]; then',
    `    ${down}; fi`,
    `    save_env -f ${TRIES_FILE} tries`,
    '    set slot="$trial"',
    '  fi',
    'fi',
    ...o.slots.map((s, i) => `if [ "$slot" = ${s.slot} ]; then set default=${i}; fi`),
    // A trial slot whose kernel GRUB cannot load (damaged, missing) would
    // send GRUB back to its menu, booting nothing, its try already spent:
    // the default slot is GRUB's fallback entry.
    ...o.slots.map((s, i) => `if [ "$dflt" = ${s.slot} ]; then set fallback=${i}; fi`),
    ...o.slots.flatMap((s) => [
      `menuentry 'roroot slot ${s.slot}' {`,
      `  linux (hd0,msdos${s.partition})/vmlinuz root=${s.partuuid} ${o.append} roroot.slot=${s.slot}`,
      `  initrd (hd0,msdos${s.partition})/initrd.img`,
      '}',
    ]),
    '',
  ].join('\n');
}
