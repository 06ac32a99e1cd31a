import type { RwtabMode } from '../config/rwtab';

// What boot does, as data. The planner produces these, `roroot plan` prints
// them, the executor runs them. All paths are paths on the router's root
// ("system paths"); the executor maps them under --root.

export type Phase = 'pseudo' | 'scratch' | 'volatile' | 'rwtab' | 'hostname' | 'state' | 'state-files' | 'remote' | 'persistent' | 'modules';

interface StepBase {
  id: string; // unique in a plan, e.g. "scratch.mkfs"; `needs` refers to it
  phase: Phase;
  why: string; // the reason this step (or this choice) was planned
  fatal: boolean; // failing (after any fallback) means nothing usable could be made
  needs?: string; // skip this step unless the step with this id succeeded as planned
  fallback?: Step[]; // run instead when this step fails
}

export type Step = StepBase &
  (
    | { kind: 'mount'; source: string; target: string; fstype: string | null; options: string[] }
    // mkfs the scratch partition; `populate` fills it from a directory in
    // the same pass (mke2fs -d), so there is no copy step for a partition.
    | { kind: 'mkfs'; device: string; fstype: 'ext2' | 'ext3' | 'ext4'; label: string | null; uuid: string | null; populate: string | null }
    // Copy a directory's content onto a fresh filesystem (tmpfs fallback).
    | { kind: 'fill'; from: string; to: string }
    // Bind source over target. `replicate` first recreates target on the
    // source side with rwtab's meaning (seed 000); 'missing' copies target
    // like 'files' only when source does not exist yet (first boot of a
    // persistent state directory).
    | { kind: 'bind'; source: string; target: string; replicate: RwtabMode | 'missing' | null; options: string[] }
    // Make `path` a symlink to `target` (already right: nothing to do). With
    // `ensureDir`, create the target directory, but only inside `within`,
    // which must be a mounted filesystem; from `seed` + path when that
    // exists (the first content of a persistent directory).
    | { kind: 'symlink'; path: string; target: string; ensureDir: boolean; within: string; seed: string | null }
    // An NFS mount: bounded in time, retried in the background when `retry`.
    | { kind: 'nfs'; source: string; target: string; options: string[]; timeoutSec: number; retry: boolean; enrol: Enrol | null }
    | { kind: 'hostname'; name: string }
    // Regenerate modules.dep: depmod into `work` (on the scratch) first,
    // then only atomic renames into `dir` inside a read-write window of the
    // root. Windows are recorded under `scratch`.
    | { kind: 'depmod'; release: string; dir: string; work: string; scratch: string }
  );

// A new machine of a fleet has no state directory on the server yet. When
// the server says `source` does not exist, `parent` is mounted at `via` (on
// the scratch), `name` is created in it with a copy of the parent's `files`
// list (the fleet's template), and the mount is tried again.
export interface Enrol {
  parent: string;
  name: string;
  via: string;
}

export type StepKind = Step['kind'];

export interface Plan {
  active: boolean; // false: roroot is off, hand over at once
  reason: string; // why active or not
  steps: Step[];
  notes: string[]; // decisions that produced no step (skipped rwtab paths, fallbacks chosen up front)
  configErrors: string[]; // config lines that were skipped: file:line: what was expected
  warnings: string[]; // things an admin should fix that are not config lines
}
