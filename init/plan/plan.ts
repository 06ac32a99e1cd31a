import type { Config } from '../config/config';
import { CONFIG_FILES } from '../config/config';
import { formatDiagnostic } from '../config/diagnostic';
import { RECORD_DIR } from '../config/own-paths';
import { isUnder } from '../config/system-path';
import type { StateListEntry } from '../config/state-list';
import { IDENTITY } from '../places/identity';
import { KINDS, ofKind, placesOf, planPlaces } from '../places/place';
import type { Place, PlaceEnv, PlaceKindName, PlacePlan } from '../places/types';
import { mountArgv, TIMEOUT_SEC } from './argv';
import { batchBinds } from './bind-batch';
import { hostOf, isMounted, mountAt, type Facts, type PathFact } from './facts';
import { planHostname } from './hostname';
import { planModulesDep } from './modules-dep';
import { planPseudo } from './pseudo';
import { planScratch, scratchTmpfs } from './scratch';
import { planRemote, planState } from './state';
import type { Plan, Step } from './steps';

// Pure: (config, facts) -> the steps boot will run, in order, with the
// reason for every choice. No I/O here, so every decision is unit-tested.

// Whether the boot stage protects the root, and why: from the config
// alone, so that the costlier probes can be skipped when it does not.
export function activation(config: Config): { active: boolean; reason: string } {
  if (config.cmdline.readonlyroot === false) return { active: false, reason: 'noreadonlyroot on the kernel command line' };
  if (config.cmdline.readonlyroot === true) return { active: true, reason: 'readonlyroot on the kernel command line' };
  if (config.settings.readonly) return { active: true, reason: 'READONLY=yes' };
  if (config.settings.temporaryState) return { active: true, reason: 'TEMPORARY_STATE=yes' };
  return { active: false, reason: 'READONLY=no and TEMPORARY_STATE=no' };
}

function emptyBootPlan(config: Config): Plan {
  return { active: false, reason: '', steps: [], notes: [], configErrors: config.diagnostics.map(formatDiagnostic), warnings: [], identityAfter: 'network', networkAfter: 'scratch' };
}

export function planBoot(config: Config, facts: Facts): Plan {
  const plan = emptyBootPlan(config);
  const { active, reason } = activation(config);
  plan.reason = reason;
  if (!active) {
    planReadWrite(config, facts, plan);
    return plan;
  }
  plan.active = true;
  plan.warnings.push(...facts.problems);
  const s = config.settings;
  const env: PlaceEnv = { config, facts };
  planPseudo(config, facts, plan);
  planRootCheck(facts, plan, reason);
  planMtabCheck(facts, plan);
  planScratch(config, facts, plan);
  const places = placesOf(config);
  addPlaces(plan, places, ['volatile', 'rwtab', 'overlay'], env);
  plan.steps = batchBinds(plan.steps, `${hostOf(facts, s.rwMount)}/${RECORD_DIR}/binds.fstab`);
  if (facts.modules) plan.steps.push(...planModulesDep(facts.modules, s.rwMount));
  // No window on a guess: a root opened for nothing is the one risk left.
  if (facts.modules?.error) plan.warnings.push(`modules: ${facts.modules.error}: taking modules.dep as current`);
  const hostname = planHostname(config, facts, plan);
  planState(config, facts, plan, hostname);
  planRemote(config, facts, plan);
  addPlaces(plan, places, ['persistent'], env);
  markNetworkLane(plan.steps);
  plan.identityAfter = identityAfter(plan.steps);
  plan.networkAfter = networkAfter(plan.steps, facts, s.rwMount);
  return plan;
}

// What the other steps stand on, run before them (boot.ts): the root made
// writable (roroot off on a converted system) and the scratch.
export const isFirstStep = (s: Step) => s.phase === 'root' || s.phase === 'scratch';

// NFS mounts, and the steps that need one, in the network lane.
function markNetworkLane(steps: Step[]) {
  const network = new Set<string>();
  for (const s of steps) {
    if (s.kind === 'nfs' || (s.needs && network.has(s.needs))) {
      s.lane = 'network';
      network.add(s.id);
    }
  }
}

// What a step puts in place: system paths.
const placed = (s: Step): string[] =>
  s.kind === 'symlink' ? [s.path] : s.kind === 'bind' || s.kind === 'mount' || s.kind === 'nfs' ? [s.target] : s.kind === 'bind-batch' ? s.members.map((m) => m.target) : [];

// When the network lane may start. At once ('plan') unless one of its
// steps (or their fallbacks) uses a path under what a local step puts in
// place (a volatile link, an rwtab bind, an overlay, a local state
// partition's mount): then after all the local steps ('local'; until
// 2026-12 it only waited for the scratch, and a persistent link under an
// rwtab bind raced the bind: made on the read-only root, it failed with
// EROFS, or landed in the bind). Or under the scratch itself,
// as CLIENTSTATE's enrolment mount is, or through a link the root has
// already: after the scratch ('scratch'). In the QEMU guest REMOTE's mount,
// the stage's longest step, started after the scratch's mkfs and mount
// (0.4 s) until 2026-12; on a router the server's round trips and the
// disk's writes overlap.
function networkAfter(steps: Step[], facts: Facts, scratch: string): Plan['networkAfter'] {
  const local = steps.filter((s) => !s.lane && s.phase !== 'pseudo' && !isFirstStep(s)).flatMap(placed);
  const deep = (s: Step): Step[] => [s, ...(s.fallback ?? []).flatMap(deep)];
  const uses = (s: Step): string[] => [...placed(s), ...(s.kind === 'umount' ? [s.target] : []), ...(s.kind === 'symlink' && s.ensure ? [s.ensure.within] : [])];
  const lane = steps.filter((s) => s.lane === 'network').flatMap(deep).flatMap(uses);
  const seen = lane.flatMap((p) => [p, facts.paths[p]?.where ?? p]);
  if (seen.some((p) => local.some((q) => isUnder(p, q)))) return 'local';
  return seen.some((p) => isUnder(p, scratch)) ? 'scratch' : 'plan';
}

// The identity stands on the state and on its own paths. When the network
// lane mounts neither (a local state; REMOTE's links elsewhere) it is made
// while NFS mounts: in the QEMU guest REMOTE's mount took 4.4 s of an 8.9 s
// boot stage, and the identity ~1 s after it. With no state to mount (none,
// or mounted already) its store is there once the scratch is: its keys are
// made while the local steps copy and bind (~15 ms of dropbearkey natively,
// on another core).
function identityAfter(steps: Step[]): Plan['identityAfter'] {
  const onIdentity = (p: string) => IDENTITY.some((item) => isUnder(p, item.path) || isUnder(item.path, p));
  if (steps.some((s) => s.lane === 'network' && (s.phase === 'state' || placed(s).some(onIdentity)))) return 'network';
  return steps.some((s) => s.phase === 'state') ? 'local' : 'scratch';
}

function addPlaces(plan: Plan, places: Place[], kinds: PlaceKindName[], env: PlaceEnv) {
  for (const part of planPlaces(places.filter((p) => kinds.includes(p.kind)), env)) merge(plan, part);
}

function merge(plan: Plan, part: PlacePlan) {
  plan.steps.push(...part.steps);
  plan.notes.push(...part.notes);
  plan.warnings.push(...part.warnings);
  plan.configErrors.push(...part.configErrors);
}

// roroot is off (noreadonlyroot, READONLY=no) on a system it converted: the
// volatile places are links into a scratch nobody makes, and would dangle.
// The machine boots read-write as a plain system would, the links
// resolving into the master copy itself (bound at the scratch mount), so
// what is written there stays: a maintenance boot, said loudly.
function planReadWrite(config: Config, facts: Facts, plan: Plan) {
  const s = config.settings;
  const links = ofKind(placesOf(config), 'volatile').filter((p) => facts.paths[p.path]?.kind === 'symlink');
  if (links.length === 0) return;
  plan.warnings.push(`${plan.reason}: / is read-write and unprotected; the volatile places are the master copy ${s.rwMaster} itself, what is written there stays`);
  planPseudo(config, facts, plan);
  const root = mountAt(facts, '/');
  if (root?.options.includes('ro')) {
    plan.steps.push({ id: 'root.rw', phase: 'root', kind: 'remount', target: '/', argv: ['mount', '-n', '-o', 'remount,rw', hostOf(facts, '/')], timeoutSec: TIMEOUT_SEC.mount, fatal: false, why: plan.reason });
  }
  const master = facts.paths[s.rwMaster];
  if (!isMounted(facts, s.rwMount) && master?.follows === 'dir' && master.resolved) {
    plan.steps.push({
      id: 'scratch.master',
      phase: 'scratch',
      kind: 'mount',
      target: s.rwMount,
      mkdir: null,
      argv: mountArgv({ bind: true, source: hostOf(facts, master.resolved), target: hostOf(facts, s.rwMount) }),
      timeoutSec: TIMEOUT_SEC.mount,
      fatal: false,
      why: 'the volatile links resolve into the master copy',
    });
  }
  merge(plan, KINDS.volatile.plan(links, { config, facts }));
  for (const step of plan.steps) if (step.kind === 'symlink') step.needs = isMounted(facts, s.rwMount) ? undefined : 'scratch.master';
}

// READONLY=yes, and yet / is mounted read-write (the kernel command line
// says rw, or fstab does): roroot does its part, and says that the root is
// not protected.
function planRootCheck(facts: Facts, plan: Plan, reason: string) {
  const root = mountAt(facts, '/');
  if (root && !root.options.includes('ro')) plan.warnings.push(`/ is mounted read-write although ${reason}: a power cut can damage it (is "ro" on the kernel command line and in /etc/fstab?)`);
  // No fsck of the root at boot (fstab pass 0, init/flash/layout.ts), so
  // what ext4 found wrong with it is said at every boot instead.
  const e = facts.rootErrors;
  if (e && e.count > 0) plan.warnings.push(`/: ext4 has recorded ${e.count} error${e.count > 1 ? 's' : ''} on ${e.device}: check it with e2fsck -f from a maintenance boot (nothing checks the read-only root at boot)`);
}

// The 1997 design's answer to a read-only /etc/mtab, kept by every distro
// since: /etc/mtab is /proc/mounts (or /proc/self/mounts), and mount -n.
export function mtabIsProcMounts(mtab: PathFact | undefined): boolean {
  return !!mtab && mtab.kind === 'symlink' && ['/proc/mounts', '/proc/self/mounts', '../proc/self/mounts', '../proc/mounts'].includes(mtab.link ?? '');
}

function planMtabCheck(facts: Facts, plan: Plan) {
  const mtab = facts.paths[CONFIG_FILES.mtab];
  if (!mtabIsProcMounts(mtab)) {
    const found = !mtab || mtab.kind === 'missing' ? 'missing' : mtab.kind === 'symlink' ? `a symlink to ${mtab.link}` : `a ${mtab.kind}`;
    plan.warnings.push(`/etc/mtab is ${found}, not a symlink to /proc/mounts: df and mount may show stale mounts (roroot install fixes it)`);
  }
}

// Read after the state mount: the paths its files list names, bound from
// the state over their place, as far as the router's policy allows.
export function planStateFiles(config: Config, facts: Facts, entries: StateListEntry[], file: string): Plan {
  const plan: Plan = { active: true, reason: `${file} lists them`, steps: [], notes: [], configErrors: [], warnings: [], identityAfter: 'network', networkAfter: 'scratch' };
  const places = entries.map((e): Place => ({ kind: 'state-file', path: e.path, where: `${file}:${e.line}` }));
  merge(plan, KINDS['state-file'].plan(ofKind(places, 'state-file'), { config, facts }));
  return plan;
}

// After `roroot install` on a running system the volatile links point into a
// scratch that is not mounted until the next boot; this mounts it now.
export function planLiveScratch(config: Config, facts: Facts): Step[] {
  return isMounted(facts, config.settings.rwMount) ? [] : scratchTmpfs(config, facts, 'roroot install on a running system: a tmpfs until the next boot');
}
