import type { Config } from '../config/config';
import { CONFIG_FILES } from '../config/config';
import { formatDiagnostic } from '../config/diagnostic';
import { mountOptionsOf, type FstabEntry } from '../config/fstab';
import type { RwtabMode } from '../config/rwtab';
import type { ScratchFstype } from '../config/settings';
import { checkSystemPath, isUnder, normalizeSystemPath } from '../config/system-path';
import { isMounted, type Facts, type PathFact } from './facts';
import { currentHostname, nameFromAddress, nameInHosts, wantsNameFromAddress } from './hostname';
import { planModulesDep } from './modules-dep';
import { hardened, nfsOptions } from './mount-options';
import type { Enrol, Plan, Step } from './steps';
import { fstabEntryFor } from './wanted';

// Pure: (config, facts) -> the steps boot will run, in order, with the
// reason for every choice. No I/O here, so every decision is unit-tested.

// The kernel filesystems, as a table of data (systemd's mount-setup.c keeps
// its list the same way). Mounted only when not mounted yet: under an
// initramfs they have been moved over already.
const PSEUDO: { target: string; fstype: string; options: string[]; devtmpfs?: true }[] = [
  { target: '/proc', fstype: 'proc', options: ['nosuid', 'nodev', 'noexec'] },
  { target: '/sys', fstype: 'sysfs', options: ['nosuid', 'nodev', 'noexec'] },
  { target: '/dev', fstype: 'devtmpfs', options: ['nosuid', 'mode=0755'], devtmpfs: true },
  { target: '/dev/pts', fstype: 'devpts', options: ['nosuid', 'noexec', 'gid=5', 'mode=0620', 'ptmxmode=000'] },
];

// Whether the boot stage acts at all, and why: from the config alone, so
// that the costlier probes can be skipped when it does not.
export function activation(config: Config): { active: boolean; reason: string } {
  if (config.cmdline.readonlyroot === false) return { active: false, reason: 'noreadonlyroot on the kernel command line' };
  if (config.cmdline.readonlyroot === true) return { active: true, reason: 'readonlyroot on the kernel command line' };
  if (config.settings.readonly) return { active: true, reason: 'READONLY=yes' };
  if (config.settings.temporaryState) return { active: true, reason: 'TEMPORARY_STATE=yes' };
  return { active: false, reason: 'READONLY=no and TEMPORARY_STATE=no' };
}

export function planBoot(config: Config, facts: Facts): Plan {
  const plan: Plan = { active: false, reason: '', steps: [], notes: [], configErrors: config.diagnostics.map(formatDiagnostic), warnings: [] };
  const { active, reason } = activation(config);
  if (!active) return { ...plan, reason };
  plan.active = true;
  plan.reason = reason;
  const s = config.settings;

  planPseudo(config, facts, plan);
  planMtabCheck(facts, plan);
  planScratch(config, facts, plan);
  planVolatile(config, plan);
  planRwtab(config, facts, plan);
  if (facts.modules) plan.steps.push(...planModulesDep(facts.modules, s.rwMount));
  // No window on a guess: a root opened for nothing is the one risk left.
  if (facts.modules?.error) plan.warnings.push(`modules: ${facts.modules.error}: taking modules.dep as current`);
  const hostname = planHostname(config, facts, plan);
  planState(config, facts, plan, hostname);
  planRemote(config, plan);
  return plan;
}

function planPseudo(config: Config, facts: Facts, plan: Plan) {
  for (const p of PSEUDO) {
    if (p.devtmpfs && !config.settings.devtmpfs) {
      plan.notes.push(`${p.target}: static device nodes on the root (DEVTMPFS=no)`);
      continue;
    }
    if (isMounted(facts, p.target)) continue;
    plan.steps.push({
      id: `pseudo${p.target.replace(/\//g, '.')}`,
      phase: 'pseudo',
      kind: 'mount',
      source: p.fstype,
      target: p.target,
      fstype: p.fstype,
      options: p.options,
      fatal: false,
      why: 'not mounted yet',
    });
  }
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

// After `roroot install` on a running system the volatile links point into a
// scratch that is not mounted until the next boot; this mounts it now.
export function planLiveScratch(config: Config, facts: Facts): Step[] {
  return isMounted(facts, config.settings.rwMount) ? [] : scratchTmpfs(config, facts, 'roroot install on a running system: a tmpfs until the next boot');
}

function scratchTmpfs(config: Config, facts: Facts, why: string, options = config.settings.rwOptions): Step[] {
  const s = config.settings;
  const steps: Step[] = [
    {
      id: 'scratch.tmpfs',
      phase: 'scratch',
      kind: 'mount',
      source: 'tmpfs',
      target: s.rwMount,
      fstype: 'tmpfs',
      options: hardened(['mode=0755', ...options]),
      fatal: true,
      why,
    },
  ];
  const master = masterCopy(config, facts);
  if (master) {
    steps.push({ id: 'scratch.fill', phase: 'scratch', kind: 'fill', from: master, to: s.rwMount, fatal: false, needs: 'scratch.tmpfs', why: 'fill tmpfs from the master copy' });
  }
  return steps;
}

function masterCopy(config: Config, facts: Facts): string | null {
  const fact = facts.paths[config.settings.rwMaster];
  return fact && fact.follows === 'dir' ? fact.resolved : null;
}

interface ScratchDevice {
  spec: string;
  from: string; // which setting named it
  fstype: ScratchFstype;
  options: string[];
}

function scratchCandidates(config: Config): ScratchDevice[] | { tmpfs: FstabEntry } {
  const s = config.settings;
  const out: ScratchDevice[] = [];
  const fstab = fstabEntryFor(config, s.rwMount);
  if (fstab) {
    if (fstab.vfstype === 'tmpfs') return { tmpfs: fstab };
    const fstype = (['ext2', 'ext3', 'ext4'] as const).find((t) => t === fstab.vfstype) ?? s.rwFstype;
    out.push({ spec: fstab.spec, from: `${CONFIG_FILES.fstab}:${fstab.line}`, fstype, options: [...mountOptionsOf(fstab), ...s.rwOptions] });
  }
  if (s.rwDevice) out.push({ spec: s.rwDevice, from: `RW_DEVICE=${s.rwDevice}`, fstype: s.rwFstype, options: s.rwOptions });
  if (s.rwLabel) out.push({ spec: `LABEL=${s.rwLabel}`, from: `RW_LABEL=${s.rwLabel}`, fstype: s.rwFstype, options: s.rwOptions });
  return out;
}

function specValue(spec: string, key: 'LABEL' | 'UUID'): string | null {
  return spec.startsWith(`${key}=`) ? spec.slice(key.length + 1) : null;
}

function planScratch(config: Config, facts: Facts, plan: Plan) {
  const s = config.settings;
  if (isMounted(facts, s.rwMount)) {
    plan.notes.push(`scratch: ${s.rwMount} is already mounted (boot ran before): not re-made`);
    return;
  }
  if (!masterCopy(config, facts)) plan.warnings.push(`master copy ${s.rwMaster} is missing: the scratch space starts empty`);
  const candidates = scratchCandidates(config);
  if ('tmpfs' in candidates) {
    const from = `${CONFIG_FILES.fstab}:${candidates.tmpfs.line}`;
    plan.steps.push(...scratchTmpfs(config, facts, `tmpfs from ${from}`, [...mountOptionsOf(candidates.tmpfs), ...s.rwOptions]));
    return;
  }
  for (const c of candidates) {
    const device = facts.devices[c.spec];
    if (!device) {
      plan.notes.push(`scratch: ${c.from}: no such device`);
      continue;
    }
    const number = facts.deviceNumbers[device];
    const busy = number ? facts.mounts.find((m) => m.device === number) : undefined;
    if (busy) {
      plan.warnings.push(`scratch: refusing to mkfs ${device} (${c.from}): it is mounted at ${busy.target}`);
      plan.steps.push(...scratchTmpfs(config, facts, `${device} is in use`));
      return;
    }
    const fallback = (what: string) => scratchTmpfs(config, facts, `${what} ${device} failed`);
    const master = masterCopy(config, facts);
    plan.steps.push(
      {
        id: 'scratch.mkfs',
        phase: 'scratch',
        kind: 'mkfs',
        device,
        fstype: c.fstype,
        label: specValue(c.spec, 'LABEL') ?? s.rwLabel,
        uuid: specValue(c.spec, 'UUID'),
        populate: master,
        fatal: false,
        fallback: fallback('mkfs of'),
        why: `${c.from}; re-made at every boot${master ? ', filled from the master copy' : ''}`,
      },
      {
        id: 'scratch.mount',
        phase: 'scratch',
        kind: 'mount',
        source: device,
        target: s.rwMount,
        fstype: c.fstype,
        options: hardened(c.options),
        fatal: false,
        needs: 'scratch.mkfs',
        fallback: fallback('mount of'),
        why: c.from,
      },
    );
    return;
  }
  plan.steps.push(...scratchTmpfs(config, facts, 'no scratch partition found'));
}

// Seed 004: writable directories are symlinks into a mount (the scratch for
// VOLATILE, the NFS remote for PERSISTENT), made once by `roroot install`;
// at boot their targets must exist inside that mount.
function linkInto(mount: string, path: string, phase: 'volatile' | 'persistent', seed: string | null, needs?: string): Step {
  return {
    id: `${phase}:${path}`,
    phase,
    kind: 'symlink',
    path,
    target: mount + path,
    ensureDir: true,
    within: mount,
    seed,
    fatal: false,
    ...(needs ? { needs } : {}),
    why: phase === 'volatile' ? 'VOLATILE' : 'PERSISTENT',
  };
}

function planVolatile(config: Config, plan: Plan) {
  for (const path of config.settings.volatile) {
    if (/[*?[]/.test(path)) plan.warnings.push(`VOLATILE: ${path} is a pattern: roroot install expands it into the paths it links`);
    else plan.steps.push(linkInto(config.settings.rwMount, path, 'volatile', null));
  }
}

// Seed 000: rwtab entries are recreated on the scratch space and bound over
// their place, in file order, skipping paths that do not exist (`[ -e $1 ]`).
function planRwtab(config: Config, facts: Facts, plan: Plan) {
  const s = config.settings;
  const seen = new Set<string>();
  const bound: { target: string; mode: RwtabMode }[] = [];
  for (const e of config.rwtab) {
    const where = `${e.file}:${e.line}`;
    const fact = facts.paths[e.path];
    if (!fact || !fact.resolved) {
      plan.notes.push(`rwtab: ${e.path} does not exist, skipped (${where})`);
      continue;
    }
    const target = fact.resolved;
    if (isUnder(target, s.rwMount)) {
      plan.notes.push(`rwtab: ${e.path} is already on the scratch space (${where})`);
      continue;
    }
    if (seen.has(target)) {
      plan.notes.push(`rwtab: ${e.path} is listed twice, the first one counts (${where})`);
      continue;
    }
    // Fedora's own list has `files /var/log/audit/audit.log` after `dirs
    // /var/log`: once /var/log is bound, only its directories are there and
    // rc.sysinit's [ -e ] skips the file. Planned from the facts of the
    // unbound root, the copy would fail with ENOENT.
    const cover = bound.find((b) => isUnder(target, b.target) && (b.mode === 'empty' || fact.follows !== 'dir'));
    if (cover) {
      plan.notes.push(`rwtab: ${e.path} is hidden by ${cover.mode} ${cover.target} bound before it, skipped as rc.sysinit's [ -e ] does (${where})`);
      continue;
    }
    seen.add(target);
    bound.push({ target, mode: e.mode });
    plan.steps.push({
      id: `rwtab:${target}`,
      phase: 'rwtab',
      kind: 'bind',
      source: s.rwMount + target,
      target,
      replicate: e.mode,
      options: s.slaveMounts ? ['slave'] : [],
      fatal: false,
      why: `${e.mode} in ${where}${target !== e.path ? ` (${e.path} resolves to ${target})` : ''}`,
    });
  }
}

function planHostname(config: Config, facts: Facts, plan: Plan): string {
  const current = currentHostname(facts.kernelHostname, facts.etcHostname);
  const address = facts.addresses[0];
  let name = current;
  let why = `from ${CONFIG_FILES.hostname}`;
  if (wantsNameFromAddress(facts.kernelHostname, facts.etcHostname)) {
    if (!address) {
      plan.notes.push(`hostname: "${current}" and no global IPv4 address to name it from`);
      return current;
    }
    const inHosts = nameInHosts(config.etcHosts, address);
    name = inHosts ?? facts.reverseName ?? nameFromAddress(address);
    why = `"${current}" is no name; ${address} ${inHosts ? `is ${inHosts} in /etc/hosts` : facts.reverseName ? 'resolves to it' : 'does not resolve, name derived from it'}`;
  }
  if (name !== facts.kernelHostname) plan.steps.push({ id: 'hostname', phase: 'hostname', kind: 'hostname', name, fatal: false, why });
  return name;
}

// Seed 000: persistent state from fstab, then the STATE_LABEL partition,
// then NFS $CLIENTSTATE/$HOSTNAME; each one the fallback of the one before.
function planState(config: Config, facts: Facts, plan: Plan, hostname: string) {
  const s = config.settings;
  if (isMounted(facts, s.stateMount)) {
    plan.notes.push(`state: ${s.stateMount} is already mounted`);
    return;
  }
  const chain: Step[] = [];
  const fstab = fstabEntryFor(config, s.stateMount);
  if (fstab && fstab.vfstype.startsWith('nfs')) {
    chain.push(stateNfs('state.fstab', fstab.spec, s.stateMount, [...mountOptionsOf(fstab), ...s.stateOptions], s.nfsTimeoutSec, `${CONFIG_FILES.fstab}:${fstab.line}`));
  } else if (fstab) {
    const device = facts.devices[fstab.spec];
    if (device) {
      chain.push({
        id: 'state.fstab',
        phase: 'state',
        kind: 'mount',
        source: device,
        target: s.stateMount,
        fstype: fstab.vfstype === 'auto' ? null : fstab.vfstype,
        options: [...mountOptionsOf(fstab), ...s.stateOptions],
        fatal: false,
        why: `${CONFIG_FILES.fstab}:${fstab.line}`,
      });
    } else plan.warnings.push(`state: ${CONFIG_FILES.fstab}:${fstab.line}: ${fstab.spec}: no such device`);
  }
  const labelled = s.stateLabel ? facts.devices[`LABEL=${s.stateLabel}`] : null;
  if (labelled) {
    chain.push({ id: 'state.label', phase: 'state', kind: 'mount', source: labelled, target: s.stateMount, fstype: null, options: s.stateOptions, fatal: false, why: `STATE_LABEL=${s.stateLabel}` });
  }
  if (s.clientState) {
    const enrol = { parent: s.clientState, name: hostname, via: `${s.rwMount}/.roroot/enrol` };
    chain.push(stateNfs('state.nfs', `${s.clientState}/${hostname}`, s.stateMount, s.stateOptions, s.nfsTimeoutSec, `CLIENTSTATE=${s.clientState}, hostname ${hostname}; created on the server if missing`, enrol));
  }
  if (chain.length === 0) {
    plan.notes.push('state: no persistent state (no fstab entry for STATE_MOUNT, no STATE_LABEL partition, no CLIENTSTATE)');
    return;
  }
  for (let i = chain.length - 1; i > 0; i--) chain[i - 1].fallback = [chain[i]];
  plan.steps.push(chain[0]);
}

function stateNfs(id: string, source: string, target: string, options: string[], timeoutSec: number, why: string, enrol: Enrol | null = null): Step {
  return { id, phase: 'state', kind: 'nfs', source, target, options: nfsOptions(options), timeoutSec, retry: true, enrol, fatal: false, why };
}

// Seed 004: persistent directories are symlinks into an NFS export mounted
// at REMOTE_MOUNT.
function planRemote(config: Config, plan: Plan) {
  const s = config.settings;
  if (!s.remote) {
    if (s.persistent.length > 0) plan.warnings.push(`PERSISTENT is set but REMOTE is not: ${s.persistent.join(' ')} will not be writable`);
    return;
  }
  plan.steps.push({
    id: 'remote.nfs',
    phase: 'remote',
    kind: 'nfs',
    source: s.remote,
    target: s.remoteMount,
    options: nfsOptions(s.remoteOptions),
    timeoutSec: s.nfsTimeoutSec,
    retry: true,
    enrol: null,
    fatal: false,
    why: `REMOTE=${s.remote}`,
  });
  for (const path of s.persistent) plan.steps.push(linkInto(s.remoteMount, path, 'persistent', s.remoteMaster, 'remote.nfs'));
}

// Read after the state mount: the paths listed in $STATE_MOUNT/files are
// bound from the state directory over their place (seed 000). A path the
// state lacks is first copied there from the root, so a new machine starts
// with the image's version and keeps its own from then on. (The seed guards
// this with `[ -d $STATE_MOUNT/etc ]`, a puppet detail; the list file is the
// real contract.)
export function planStateFiles(config: Config, facts: Facts, listText: string): Plan {
  const s = config.settings;
  const file = `${s.stateMount}/files`;
  const plan: Plan = { active: true, reason: `${file} lists them`, steps: [], notes: [], configErrors: [], warnings: [] };
  listText.split('\n').forEach((raw, index) => {
    const path = raw.trim();
    if (path === '' || path.startsWith('#')) return;
    const bad = checkSystemPath(path);
    if (bad) {
      plan.configErrors.push(`${file}:${index + 1}: ${bad}`);
      return;
    }
    const fact = facts.paths[normalizeSystemPath(path)];
    if (!fact || !fact.resolved) {
      plan.notes.push(`state-files: ${path} does not exist on the root, skipped (${file}:${index + 1})`);
      return;
    }
    plan.steps.push({
      id: `state-files:${fact.resolved}`,
      phase: 'state-files',
      kind: 'bind',
      source: s.stateMount + fact.resolved,
      target: fact.resolved,
      replicate: 'missing',
      options: [],
      fatal: false,
      why: `${file}:${index + 1}`,
    });
  });
  return plan;
}

export function stateFilesPaths(listText: string): string[] {
  return listText
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#') && !checkSystemPath(l))
    .map(normalizeSystemPath);
}
