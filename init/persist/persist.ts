import { existsSync, lstatSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { PERFORMERS } from '../boot';
import type { Config } from '../config/config';
import { parseStateList } from '../config/state-list';
import { normalizeSystemPath } from '../config/system-path';
import { IDENTITY } from '../places/identity';
import { KINDS } from '../places/place';
import type { PlaceCheck } from '../places/types';
import { commandLine } from '../plan/argv';
import { isMounted, mountAt, type Facts } from '../plan/facts';
import { persistPaths, persistRefusal } from '../plan/persist-path';
import { planStateFiles } from '../plan/plan';
import { fsyncDir, writeAtomically } from '../sys/atomic';
import { execute } from '../sys/execute';
import { Logger } from '../sys/log';
import { localFacts } from '../sys/probe';
import { readConfig } from '../sys/read-config';
import { readStateList } from '../sys/read-state-list';
import { hostPath } from '../sys/root-path';
import { runChecked } from '../sys/spawn';
import { copyTree, lstatOrNull, mkdirsWithin } from '../sys/tree-copy';
import { readDiffRq, underneath, type Difference } from './factory';

export type { Difference };

// `roroot persist`: one declarative list of what survives a reboot, the
// state's `files` (Fedora's format: old states keep working), bounded by the
// router's own policy. Every change of the list or of a stored copy is made
// beside, synced and renamed: a power cut leaves the old or the new, never
// half. Changes take effect at once, with no reboot and no read-write window.

export class PersistError extends Error {}

interface Ctx {
  root: string;
  config: Config;
  state: string; // STATE_MOUNT, as this machine sees it
  list: string; // its files list
  say: (line: string) => void;
}

function context(root: string, say: (l: string) => void): Ctx {
  const config = readConfig(root, '');
  const s = config.settings;
  if (!localFacts(root, []).mounts.some((m) => m.target === s.stateMount)) throw new PersistError(`no persistent state is mounted at ${s.stateMount} (roroot status says why)`);
  const state = hostPath(root, s.stateMount);
  return { root, config, state, list: `${state}/files`, say };
}

function listText(c: Ctx): string {
  const read = readStateList(c.root, c.config.settings.stateMount);
  if ('error' in read) throw new PersistError(`${c.config.settings.stateMount}/files ${read.error}`);
  return 'text' in read ? read.text : '';
}

function entries(c: Ctx) {
  return parseStateList(`${c.config.settings.stateMount}/files`, listText(c)).entries;
}

function factsFor(c: Ctx, paths: string[]): Facts {
  return localFacts(c.root, paths);
}

export function list(root: string, say: (l: string) => void): PlaceCheck[] {
  const c = context(root, say);
  const es = entries(c);
  const places = es.map((e) => ({ kind: 'state-file' as const, path: e.path, where: `${c.config.settings.stateMount}/files:${e.line}` }));
  const facts = factsFor(c, [...es.map((e) => e.path), ...IDENTITY.flatMap((i) => [i.path, i.when])]);
  const env = { config: c.config, facts };
  return [...KINDS['state-file'].check(places, env), ...KINDS.identity.check(IDENTITY.map((i) => ({ kind: 'identity' as const, path: i.path })), env)];
}

// A copy of `from` made at `to`: beside it, synced, renamed over it.
async function replaceCopy(to: string, make: (tmp: string) => Promise<void>) {
  const tmp = `${to}.roroot-new`;
  const old = `${to}.roroot-old`;
  rmSync(tmp, { recursive: true, force: true });
  await make(tmp);
  await runChecked('sync', ['-f', dirname(to)], { timeoutSec: 120 });
  if (lstatOrNull(to)) renameSync(to, old);
  renameSync(tmp, to);
  fsyncDir(dirname(to));
  rmSync(old, { recursive: true, force: true });
}

async function bindNow(c: Ctx, path: string) {
  const facts = factsFor(c, [path]);
  const plan = planStateFiles(c.config, facts, [{ path, line: 0 }], `${c.config.settings.stateMount}/files`);
  if (plan.warnings.length > 0) throw new PersistError(plan.warnings[0]);
  const log = new Logger(c.say, null);
  const exec = await execute(plan.steps, { root: c.root, log, mounted: new Set(facts.mounts.map((m) => m.target)) }, PERFORMERS);
  const failed = exec.results.find((r) => r.status === 'failed');
  if (failed) throw new PersistError(`${failed.command}: ${failed.error}`);
}

async function unbind(c: Ctx, path: string) {
  const facts = factsFor(c, [path]);
  const target = facts.paths[path]?.resolved ?? path;
  if (mountAt(facts, target)) await runChecked('umount', ['-n', hostPath(c.root, target)], { timeoutSec: 30 });
}

function writeList(c: Ctx, change: (lines: string[]) => string[]) {
  const before = listText(c);
  const lines = before === '' ? ['# roroot persist: bound from this state over the router\'s root'] : before.replace(/\n$/, '').split('\n');
  writeAtomically(c.list, change(lines).join('\n') + '\n');
}

export async function add(root: string, raw: string, say: (l: string) => void): Promise<void> {
  const c = context(root, say);
  const path = normalizeSystemPath(raw);
  if (entries(c).some((e) => e.path === path)) throw new PersistError(`${path} is persisted already`);
  const facts = factsFor(c, persistPaths(raw));
  const refused = persistRefusal(c.config.settings, facts, raw);
  if (refused) throw new PersistError(refused);
  const copy = c.state + path;
  const live = hostPath(root, path);
  mkdirsWithin(c.state, dirname(path), (p) => hostPath(root, p));
  const state = mountAt(facts, c.config.settings.stateMount);
  const rules = { dev: 0, shared: !!state && state.fstype.startsWith('nfs'), shareSecrets: c.config.settings.stateShareSecrets };
  await replaceCopy(copy, async (tmp) => {
    if (existsSync(live)) copyTree(live, tmp, 'all', { ...rules, dev: lstatSync(live).dev });
    else writeAtomically(tmp, ''); // made by an app later: the bind is there first
  });
  await bindNow(c, path);
  writeList(c, (lines) => [...lines, path]);
  say(`persist: ${path} added: its content is kept on ${c.config.settings.stateMount}, bound now`);
}

export async function remove(root: string, raw: string, say: (l: string) => void): Promise<void> {
  const c = context(root, say);
  const path = normalizeSystemPath(raw);
  if (!entries(c).some((e) => e.path === path)) throw new PersistError(`${path} is not persisted`);
  await unbind(c, path);
  writeList(c, (lines) => lines.filter((l) => l.trim() === '' || l.trim().startsWith('#') || normalizeSystemPath(l.trim()) !== path));
  say(`persist: ${path} removed: the root's own content from now on (the stored copy stays at ${c.config.settings.stateMount}${path})`);
}

export async function diff(root: string, raw: string | null, say: (l: string) => void): Promise<Difference[]> {
  const c = context(root, say);
  const wanted = raw === null ? entries(c).map((e) => e.path) : [normalizeSystemPath(raw)];
  if (raw !== null && !entries(c).some((e) => e.path === wanted[0])) throw new PersistError(`${wanted[0]} is not persisted`);
  const out: Difference[] = [];
  for (const path of wanted) {
    const persisted = c.state + path;
    const st = lstatOrNull(persisted);
    const kind = !st ? 'missing' : st.isDirectory() ? 'dir' : 'file';
    const q = commandLine([persisted]);
    const r = await underneath(root, kind === 'dir' ? `diff -rq --no-dereference "$F"${commandLine([path])} ${q} || true` : `diff -u --label factory${commandLine([path])} --label persisted${commandLine([path])} "$F"${commandLine([path])} ${q} || true`);
    if (kind === 'dir') out.push({ path, kind, same: r.stdout.trim() === '', ...readDiffRq(r.stdout, r.factory + path, persisted, path) });
    else out.push({ path, kind, same: r.stdout.trim() === '', diff: r.stdout });
  }
  return out;
}

export async function revert(root: string, raw: string, say: (l: string) => void): Promise<void> {
  const c = context(root, say);
  const path = normalizeSystemPath(raw);
  if (!entries(c).some((e) => e.path === path)) throw new PersistError(`${path} is not persisted`);
  await revertOne(c, path);
  say(`persist: ${path} reverted to the factory content, bound now`);
}

async function revertOne(c: Ctx, path: string) {
  const copy = c.state + path;
  await replaceCopy(copy, async (tmp) => {
    const r = await underneath(c.root, `if [ -e "$F"${commandLine([path])} ]; then cp -a "$F"${commandLine([path])} ${commandLine([tmp])}; else : > ${commandLine([tmp])}; fi`);
    if (r.code !== 0) throw new PersistError(`cp -a factory${path} ${tmp}: ${r.stderr.trim()}`);
  });
  // The bind holds the old copy's inode: it is bound again.
  await unbind(c, path);
  await bindNow(c, path);
}

export async function factoryReset(root: string, identity: boolean, say: (l: string) => void): Promise<void> {
  const c = context(root, say);
  for (const e of entries(c)) await revertOne(c, e.path);
  say(`persist: factory-reset: ${entries(c).length} persisted paths back to the factory content`);
  if (identity) {
    for (const i of IDENTITY) rmSync(c.state + i.path, { recursive: true, force: true });
    fsyncDir(c.state);
    say('persist: factory-reset --identity: the machine id and host keys are gone from the state: the next boot makes new ones (reboot now)');
  } else if (isMounted(factsFor(c, []), c.config.settings.stateMount)) say('persist: the identity (machine id, host keys) is kept; --identity makes a new one at the next boot');
}
