import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clip, crashState, type CrashState, type Policy, type Storage } from './crash-state';
import { PieceData } from './pieces';
import { REQUESTS, WRITES } from './record';
import { saveRequests, type Request } from './request-log';
import { RootChecker, type RootResult } from './root-check';
import { bootState, type BootInput, type Tier2Result } from './tier2';
import { pickCut, stateSeed } from './tier1';
import { Windows, writesBefore } from './windows';

// A second cut: power fails again while a crash state boots. The state's
// recovery boot (tier 2, its own disk requests recorded) is cut before its
// login prompt under the same policy; that state is judged as tier 1
// judges (on the first state as its base) and booted. The recovery boot is
// kept as a recording (recut-K-SEED/ beside the system's), so that
// `powercut-replay ... RECUT=1` finds the second state again: its seed
// comes from the first's, its cut from its seed.

export interface SecondCut {
  k: number;
  seed: number;
  window: boolean; // a window owns it (or the first cut)
  inside: boolean; // it falls while one is open
  result: RootResult;
  boot: Tier2Result;
}

export const recutDir = (recDir: string, k: number, seed: number) => join(recDir, `recut-${k}-${seed}`);

// The first state's whole disk, as an image the second cut starts from.
export function stateImage(first: Pick<BootInput, 'base' | 'writesBin' | 'pieces'>, out: string): string {
  execFileSync('cp', ['--sparse=always', first.base, out]);
  const data = new PieceData(first.writesBin, first.base);
  const fd = openSync(out, 'r+');
  try {
    data.lay(fd, clip(first.pieces, 0, statSync(first.base).size));
  } finally {
    closeSync(fd);
    data.close();
  }
  return out;
}

export const RECUT = 'recut.json'; // { loginAt }

// The second state of the first (system, scenario, policy, seed): cut
// among the recovery boot's requests before its login prompt.
export function secondState(first: { system: string; scenario: string; policy: Policy; seed: number }, requests: Request[], loginAt: number, storage: Storage): CrashState | null {
  const seed = stateSeed(first.seed, first.system, first.scenario, first.policy, -1);
  const points = Array.from({ length: loginAt }, (_, i) => i + 1);
  if (points.length === 0) return null;
  return crashState(requests, pickCut(points, seed), first.policy, seed, storage);
}

export async function secondCut(first: BootInput & { window: boolean; policy: Policy; seed: number; recDir: string; storage: Storage }, boot: NonNullable<Tier2Result['boot']>): Promise<SecondCut | null> {
  const dir = recutDir(first.recDir, first.k, first.seed);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  saveRequests(join(dir, REQUESTS), boot.requests);
  renameSync(boot.writesBin, join(dir, WRITES));
  writeFileSync(join(dir, RECUT), JSON.stringify({ loginAt: boot.loginAt }) + '\n');
  const state = secondState({ ...first, system: first.system.name }, boot.requests, boot.loginAt, first.storage);
  if (!state) return null;
  const image = stateImage(first, join(first.work, 'first-state.img'));
  try {
    const work = join(first.work, 'recut-check');
    mkdirSync(work, { recursive: true });
    const checker = new RootChecker(image, first.part, join(dir, WRITES), work, 1);
    const windows = new Windows(boot.requests, first.part, first.recovery);
    let result: RootResult;
    try {
      result = await checker.check(state.pieces, checker.keyOf(writesBefore(boot.requests, windows.close(state.k))));
    } finally {
      checker.close();
      rmSync(work, { recursive: true, force: true });
    }
    const booted = await bootState({ ...first, base: image, writesBin: join(dir, WRITES), pieces: state.pieces, recovery: result.recovery, keep: false });
    return { k: state.k, seed: state.seed, window: first.window || windows.owns(state), inside: windows.inside(state.k), result, boot: booted };
  } finally {
    rmSync(image, { force: true });
  }
}
