import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync, chownSync, chmodSync } from 'node:fs';
import { dirname } from 'node:path';
import { CONFIG_FILES, type Config } from '../config/config';
import { parseFstab } from '../config/fstab';
import { INIT_PATH, MANIFEST, ORIG_DIR, STATE_DIR } from '../config/own-paths';
import { setSettings } from '../config/settings';
import { isUnder, normalizeSystemPath } from '../config/system-path';
import { conversion } from '../places/link-into';
import { planPlaces, undoPlace } from '../places/place';
import type { PlaceEnv, Undo } from '../places/types';
import { activation, mtabIsProcMounts, planLiveScratch } from '../plan/plan';
import { PERFORMERS } from '../boot';
import { execute } from '../sys/execute';
import { Logger } from '../sys/log';
import { localFacts, pathFact, probe, readMounts } from '../sys/probe';
import { readConfig } from '../sys/read-config';
import { hostPath, resolveInRoot } from '../sys/root-path';
import { run } from '../sys/spawn';
import { copyTree, lstatOrNull, mkdirsWithin } from '../sys/tree-copy';
import { VERSION } from '../version';
import { DEFAULT_VOLATILE, readOnlyOptions, withInit } from './conversion';
import { divertLogin, undivertLogin } from './login-divert';
import { readManifest, writeManifest, type Manifest } from './manifest';

// `roroot install`: turn a normal system (at --root) into a roroot one, the
// seed-004 way, recording every change for `roroot uninstall`. Idempotent:
// a second run finds everything in place and changes nothing. It refuses,
// before it changes anything, a system that would then not boot read-only:
// a half-enabled router has a read-only root and dangling links.

const EXTLINUX_CONF = '/boot/extlinux/extlinux.conf';
const GRUB_DEFAULT = '/etc/default/grub';
const GRUB_CFG = '/boot/grub/grub.cfg';
const UPDATE_GRUB = '/usr/sbin/update-grub';

export interface InstallOptions {
  root: string;
  volatile: string[] | null; // --volatile; else VOLATILE from the config, else the default list
  readonly: boolean; // --readonly: set READONLY=yes (over Fedora's READONLY=no)
  say: (line: string) => void;
}

// Why this system would not boot read-only once converted, or null.
function refusal(root: string, config: Config, readonly: boolean): string | null {
  const s = config.settings;
  const on = activation(config);
  if (!on.active && !readonly) return `roroot would be off at boot (${on.reason}): roroot install --readonly sets READONLY=yes in ${CONFIG_FILES.roroot}`;
  if (s.bootloader === 'flash') return null; // roroot flash writes fstab and extlinux.conf, init= included
  const text = (p: string) => (existsSync(hostPath(root, p)) ? readFileSync(hostPath(root, p), 'utf8') : null);
  if (!parseFstab(CONFIG_FILES.fstab, text(CONFIG_FILES.fstab) ?? '').entries.some((e) => e.file === '/')) return `${CONFIG_FILES.fstab} has no line for /: nothing would mount the root read-only (add one)`;
  const extlinux = /^\s*APPEND\s/im.test(text(EXTLINUX_CONF) ?? '');
  const grub = existsSync(hostPath(root, GRUB_CFG));
  if (grub && !existsSync(hostPath(root, UPDATE_GRUB))) return `${GRUB_CFG} is made by update-grub, which is missing: the kernel would not start ${INIT_PATH}`;
  if (grub && !/^GRUB_CMDLINE_LINUX=".*"$/m.test(text(GRUB_DEFAULT) ?? '')) return `${GRUB_DEFAULT} has no GRUB_CMDLINE_LINUX="..." line for init=${INIT_PATH}`;
  if (!extlinux && !grub) return `no bootloader roroot can update (no APPEND line in ${EXTLINUX_CONF}, no ${GRUB_CFG}): the kernel would not start ${INIT_PATH} (BOOTLOADER=flash when roroot flash writes it)`;
  return null;
}

// Returns the exit status: 0 converted (or nothing to do), 1 refused or failed.
export async function install(opts: InstallOptions): Promise<number> {
  const { root, say } = opts;
  const host = (p: string) => hostPath(root, p);
  const config = readConfig(root, '');
  const s = config.settings;
  const refused = refusal(root, config, opts.readonly);
  if (refused) {
    say(`install: refusing, nothing changed: ${refused}`);
    return 1;
  }
  const dirs = [STATE_DIR, s.rwMount, s.rwMaster, s.stateMount, s.remoteMount, s.remoteMaster];
  const manifest: Manifest = readManifest(root) ?? {
    version: VERSION,
    createdDirs: [...new Set(dirs.map((d) => topmostMissing(root, d)).filter((d): d is string => d !== null))],
    moved: [],
    created: [],
    editedFiles: [],
    createdFiles: [],
  };
  for (const dir of dirs) mkdirSync(host(dir), { recursive: true, mode: 0o755 });
  writeManifest(root, manifest);

  const done = { moved: 0, created: 0 };
  const volatile = opts.volatile ?? (s.volatile.length > 0 ? s.volatile : DEFAULT_VOLATILE);
  manifest.volatileGlobs = [...new Set([...(manifest.volatileGlobs ?? []), ...volatile.filter((p) => p.endsWith('/*'))])];
  const linked = convertAll(root, config, 'volatile', expandGlobs(root, volatile), manifest, done, say);
  const persistent = convertAll(root, config, 'persistent', s.persistent, manifest, done, say);

  const edit = (path: string, change: (text: string | null) => string | null) => editFile(root, manifest, path, change, say);
  // VOLATILE says exactly which links exist: globs (/var/spool/*) expanded.
  edit(CONFIG_FILES.roroot, (text) => setSettings(text, { VOLATILE: linked.join(' '), ...(opts.readonly ? { READONLY: 'yes' } : {}) }, '# roroot: see roroot boot --help. Written by roroot install.'));
  ensureMtabLink(root, manifest, say);
  if (!s.devtmpfs) divertLogin(root, manifest, say);
  let grub = false;
  if (s.bootloader === 'auto') {
    edit(CONFIG_FILES.fstab, (text) => {
      if (text === null) return null;
      const rootLine = parseFstab(CONFIG_FILES.fstab, text).entries.find((e) => e.file === '/');
      const options = rootLine && readOnlyOptions(rootLine.options);
      if (!rootLine || !options) return null;
      const lines = text.split('\n');
      lines[rootLine.line - 1] = lines[rootLine.line - 1].replace(/^(\s*\S+\s+\S+\s+\S+)(\s+\S+)?/, `$1 ${options.join(',')}`);
      return lines.join('\n');
    });
    // init=/sbin/roroot-init on the kernel command line of each bootloader.
    const addInit = (text: string | null, line: RegExp) =>
      text &&
      changed(
        text.replace(line, (all, head: string, args: string, tail: string) => {
          const cmdline = withInit(args);
          return cmdline ? head + cmdline + tail : all;
        }),
        text,
      );
    edit(EXTLINUX_CONF, (text) => addInit(text, /^(\s*APPEND\s+)(.*)()$/gim));
    grub = edit(GRUB_DEFAULT, (text) => addInit(text, /^(GRUB_CMDLINE_LINUX=")(.*)(")$/m)) || existsSync(host(GRUB_CFG));
  }
  writeManifest(root, manifest);
  if (grub && existsSync(host(GRUB_CFG))) {
    // The kernel command line is in grub.cfg, which only update-grub writes.
    const r = await (root === '/' ? run('update-grub', [], { timeoutSec: 300 }) : run('chroot', [root, 'update-grub'], { timeoutSec: 300 }));
    if (r.code !== 0) {
      say(`install: update-grub failed (exit ${r.code}): ${r.stderr.trim().split('\n').pop() ?? ''}; undoing the conversion`);
      await uninstall({ root, say });
      return 1;
    }
    say(`install: update-grub: ${GRUB_CFG} starts ${INIT_PATH}`);
  }
  if (root === '/' && linked.length > 0) await mountScratchNow(say);
  if (!existsSync(host(INIT_PATH))) say(`install: ${INIT_PATH} is missing: the kernel cannot start roroot (install the roroot package)`);
  say(`install: done; ${done.moved} moved, ${done.created} created, volatile: ${linked.join(' ') || 'none'}${persistent.length > 0 ? `, persistent: ${persistent.join(' ')}` : ''}`);
  return 0;
}

// Seed 004: volatile directories become links into the scratch mount,
// persistent ones links into the REMOTE mount; what they held goes into
// the master copy each is filled (or first seeded) from. Each path goes
// through its kind (places/): a path that kind would not plan is left.
export function convertAll(root: string, config: Config, kind: 'volatile' | 'persistent', paths: string[], manifest: Manifest, done: { moved: number; created: number }, say: (l: string) => void): string[] {
  const s = config.settings;
  const host = (p: string) => hostPath(root, p);
  const [mount, master] = kind === 'volatile' ? [s.rwMount, s.rwMaster] : [s.remoteMount, s.remoteMaster];
  const linked: string[] = [];
  for (const path of paths) {
    const env: PlaceEnv = { config, facts: localFacts(root, [path]) };
    const [checked] = planPlaces([{ kind, path }], env);
    const refused = [...checked.configErrors, ...checked.warnings][0];
    if (refused) {
      say(`install: ${refused}, left alone`);
      continue;
    }
    const c = conversion(path, pathFact(root, path), mount);
    if (c.kind === 'skip') {
      say(`install: ${path}: ${c.why}, left alone`);
      continue;
    }
    linked.push(path);
    if (c.kind === 'already') continue;
    mkdirsWithin(host(master), dirname(path), host);
    const copy = host(master) + path;
    if (c.kind === 'move') {
      moveTree(host(path), copy);
      manifest.moved.push({ path, master });
      done.moved++;
      say(`install: ${path} moved into ${master}`);
    } else {
      const sticky = path === '/tmp' || path === '/var/tmp';
      mkdirSync(copy);
      chmodSync(copy, sticky ? 0o1777 : 0o755);
      manifest.created.push({ path, master });
      done.created++;
      say(`install: ${path} created in ${master}`);
    }
    mkdirSync(dirname(host(path)), { recursive: true });
    symlinkSync(mount + path, host(path));
    writeManifest(root, manifest);
  }
  return linked;
}

// `roroot rw` after its command: new directories that became volatile
// places (a package's /var/spool/x under /var/spool/*), converted and added
// to VOLATILE; the rest of install is not run again inside the window.
export function addVolatile(root: string, config: Config, paths: string[], say: (l: string) => void): string[] {
  const manifest = readManifest(root);
  if (!manifest || paths.length === 0) return [];
  const converted = convertAll(root, config, 'volatile', paths, manifest, { moved: 0, created: 0 }, say);
  if (converted.length === 0) return [];
  const all = [...new Set([...config.settings.volatile, ...converted])];
  editFile(root, manifest, CONFIG_FILES.roroot, (text) => setSettings(text, { VOLATILE: all.join(' ') }), say);
  writeManifest(root, manifest);
  return converted;
}

// The highest directory that mkdir -p of `dir` would create, if any.
function topmostMissing(root: string, dir: string): string | null {
  let top: string | null = null;
  for (let d = dir; d !== '/' && !existsSync(hostPath(root, d)); d = dirname(d)) top = d;
  return top;
}

async function mountScratchNow(say: (l: string) => void) {
  const config = readConfig('/', '');
  const steps = planLiveScratch(config, await probe('/', config));
  const log = new Logger((line) => say(line.replace(/^roroot: /, 'install: ')), null);
  await execute(steps, { root: '/', log, mounted: new Set(readMounts('/').map((m) => m.target)) }, PERFORMERS);
}

function changed(text: string, before: string): string | null {
  return text === before ? null : text;
}

// '/var/spool/*': each directory under /var/spool, as the seed lists them.
export function expandGlobs(root: string, paths: string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    if (!p.endsWith('/*')) {
      out.push(normalizeSystemPath(p));
      continue;
    }
    const parent = normalizeSystemPath(p.slice(0, -2));
    const resolved = resolveInRoot(root, parent);
    if (!resolved) continue;
    for (const name of readdirSync(hostPath(root, resolved)).sort()) {
      const child = `${parent}/${name}`;
      if (pathFact(root, child).kind === 'dir') out.push(child);
    }
  }
  return [...new Set(out)];
}

// rename(2) keeps everything and is atomic; across filesystems (a separate
// /var, say) copy and remove instead.
export function moveTree(from: string, to: string) {
  try {
    renameSync(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    copyTree(from, to, 'all');
    rmSync(from, { recursive: true });
  }
}

// Change a file, keeping the original under ORIG_DIR the first time (or
// noting that it did not exist) so that uninstall restores it exactly.
function editFile(root: string, manifest: Manifest, path: string, change: (text: string | null) => string | null, say: (l: string) => void): boolean {
  const file = hostPath(root, path);
  const before = existsSync(file) ? readFileSync(file, 'utf8') : null;
  const after = change(before);
  if (after === null || after === before) return false;
  keepOriginal(root, manifest, path, before !== null);
  const mode = before !== null ? statSync(file) : null;
  writeFileSync(`${file}.roroot-tmp`, after, { mode: 0o644 });
  if (mode) {
    chownSync(`${file}.roroot-tmp`, mode.uid, mode.gid);
    chmodSync(`${file}.roroot-tmp`, mode.mode & 0o7777);
  }
  renameSync(`${file}.roroot-tmp`, file);
  say(`install: ${path} ${before === null ? 'created' : 'edited'}`);
  return true;
}

function keepOriginal(root: string, manifest: Manifest, path: string, existed: boolean) {
  if (manifest.editedFiles.includes(path) || manifest.createdFiles.includes(path)) return;
  if (existed) {
    mkdirSync(dirname(hostPath(root, ORIG_DIR + path)), { recursive: true });
    copyTree(hostPath(root, path), hostPath(root, ORIG_DIR + path), 'node');
    manifest.editedFiles.push(path);
  } else manifest.createdFiles.push(path);
}

// The seed's answer to a read-only /etc/mtab.
function ensureMtabLink(root: string, manifest: Manifest, say: (l: string) => void) {
  const fact = pathFact(root, CONFIG_FILES.mtab);
  if (mtabIsProcMounts(fact)) return;
  keepOriginal(root, manifest, CONFIG_FILES.mtab, fact.kind !== 'missing');
  if (fact.kind !== 'missing') unlinkSync(hostPath(root, CONFIG_FILES.mtab));
  symlinkSync('/proc/mounts', hostPath(root, CONFIG_FILES.mtab));
  say('install: /etc/mtab -> /proc/mounts');
}

// `roroot uninstall`: every change install recorded, undone, newest first;
// each converted place through its kind's undo.
export async function uninstall(opts: { root: string; say: (line: string) => void }): Promise<number> {
  const { root, say } = opts;
  const host = (p: string) => hostPath(root, p);
  const manifest = readManifest(root);
  if (!manifest) {
    say(`uninstall: no ${MANIFEST}: roroot install did not run here, nothing to undo`);
    return 0;
  }
  const config = readConfig(root, '');
  const undo = (path: string, master: string, created: boolean): Undo[] => {
    const kind = master === config.settings.remoteMaster ? 'persistent' : 'volatile';
    const env: PlaceEnv = { config: { ...config, settings: { ...config.settings, ...(kind === 'volatile' ? { rwMaster: master } : { remoteMaster: master }) } }, facts: localFacts(root, [path, master]) };
    return undoPlace({ kind, path }, env, created);
  };
  const entries = [...manifest.created.map((e) => ({ ...e, created: true })).reverse(), ...manifest.moved.map((e) => ({ ...e, created: false })).reverse()];
  for (const { path, master, created } of entries) {
    for (const op of undo(path, master, created)) {
      if (lstatOrNull(op.link)?.isSymbolicLink()) unlinkSync(op.link);
      if (op.created) rmSync(op.copy, { recursive: true, force: true });
      else {
        moveTree(op.copy, op.link);
        say(`uninstall: ${path} moved back`);
      }
    }
  }
  undivertLogin(root, manifest, say);
  for (const path of manifest.createdFiles) rmSync(host(path), { force: true });
  for (const path of manifest.editedFiles) {
    rmSync(host(path), { force: true });
    copyTree(host(ORIG_DIR + path), host(path), 'node');
    say(`uninstall: ${path} restored`);
  }
  rmSync(host(MANIFEST), { force: true });
  rmSync(host(ORIG_DIR), { recursive: true, force: true });
  // Never recursively remove what has a mount on or under it: on a running
  // router the state mount holds what the user stored persistently.
  // A mounted directory is left, not an error: dpkg -r on a running router
  // must succeed, and the mounts are gone after the next boot.
  const mounts = readMounts(root).map((m) => m.target);
  for (const dir of [...manifest.createdDirs].reverse()) {
    const mounted = mounts.filter((m) => isUnder(m, dir));
    if (mounted.length > 0) say(`uninstall: ${dir} left in place: ${mounted.join(', ')} mounted until the next boot; remove it then`);
    else rmSync(host(dir), { recursive: true, force: true });
  }
  say('uninstall: done');
  return 0;
}
