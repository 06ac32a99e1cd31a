import { current, decodeRecord, decodeTries, type BootRecord, type Slot } from '../../init/upgrade/boot-state';

// Which firmware a crash state of an A/B upgrade comes up with, decided on
// the host from what the state leaves: the boot records and the tries on
// the boot partition, and what each slot holds. Pure: the judging
// (tier1-upgrade.ts) reads the blocks and the slots, this decides.
//
// The boots are followed as the router would go through them: GRUB chooses
// as grub.cfg does (init/flash/grub.ts: the newest valid copy, the trial
// while it has tries, a try counted down before it boots it, the default
// otherwise; slot a when no copy is valid); the trial slot's boot stage
// checks the slot against the record's sha256 and, when it does not hold
// that image, ends the trial (tries 0, trial none) and reboots into the
// default (init/upgrade/trial.ts); a slot that cannot come up costs a try
// (a panic reboots: panic=) when it is on trial, and is the end when it is
// the default. Bricked: no firmware comes up.

export type Firmware = 'old' | 'new';

export interface SlotFacts {
  up: boolean; // its filesystem is clean: a boot of it reaches login
  holds: boolean; // it holds the image the record names (sha256 of its first `size` bytes)
}

export interface Blocks {
  copies: [Buffer, Buffer]; // /roroot/state0, /roroot/state1: one block each
  tries: Buffer; // /roroot/tries
}

export function readRecords(b: Blocks): { record: BootRecord | null; tries: number } {
  return { record: current([decodeRecord(0, b.copies[0]), decodeRecord(1, b.copies[1])]).record, tries: decodeTries(b.tries) };
}

export function grubChoice(record: BootRecord | null, tries: number): { slot: Slot; trial: boolean; tries: number } {
  const slot = record?.default ?? 'a';
  if (record && record.trial !== 'none' && tries > 0) return { slot: record.trial, trial: true, tries: tries - 1 };
  return { slot, trial: false, tries };
}

// More boots than any tries count (one digit) can take.
const MAX_BOOTS = 12;

export function outcome(record: BootRecord | null, tries: number, slots: Record<Slot, SlotFacts>, firmware: Record<Slot, Firmware>): { firmware: Firmware | null; first: Slot; path: string[] } {
  const path: string[] = [];
  let r = record;
  let left = tries;
  let first: Slot | null = null;
  for (let n = 0; n < MAX_BOOTS; n++) {
    const c = grubChoice(r, left);
    left = c.tries;
    first ??= c.slot;
    const s = slots[c.slot];
    if (!c.trial) {
      path.push(`slot ${c.slot}${s.up ? ' comes up' : ' cannot come up'}`);
      return { firmware: s.up ? firmware[c.slot] : null, first, path };
    }
    if (!s.holds) {
      // Its boot stage's first act: the trial ended, the default next.
      path.push(`slot ${c.slot} on trial does not hold its image: the trial ends`);
      r = { ...(r as BootRecord), trial: 'none' };
      left = 0;
      continue;
    }
    if (s.up) {
      path.push(`slot ${c.slot} on trial comes up`);
      return { firmware: firmware[c.slot], first, path };
    }
    path.push(`slot ${c.slot} on trial cannot come up (${left} tries left)`);
  }
  throw new Error(`upgrade outcome: no end after ${MAX_BOOTS} boots: ${path.join('; ')}`);
}
