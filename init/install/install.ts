import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync, chownSync, chmodSync } from 'node:fs';
import { dirname } from 'node:path';
import { CONFIG_FILES } from '../config/config';
import { parseFstab } from '../config/fstab';
import { isUnder, normalizeSystemPath } from '../config/system-path';
import { mtabIsProcMounts, planLiveScratch } from '../plan/plan';
import { execute } from '../sys/execute';
import { Logger } from '../sys/log';
import { pathFact, probe, readMounts } from '../sys/probe';
import { readConfig } from '../sys/read-config';
import { hostPath, resolveInRoot } from '../sys/root-path';
import { copyTree, lstatOrNull, mkdirsWithin } from '../sys/tree-copy';
import { VERSION } from '../version';
import { DEFAULT_VOLATILE, planConversion, readOnlyOptions, withInit } from './conversion';
import { divertLogin, undivertLogin } from './login-divert';
import { MANIFEST, ORIG_DIR, readManifest, STATE_DIR, writeManifest, type Manifest } from './manifest';

// `roroot install`: turn a normal system (at --root) into a roroot one, the
// seed-004 way, recording every change for `roroot uninstall`. Idempotent:
// a second run finds everything in place and changes nothing.

export const INIT_PATH = '/sbin/roroot-init';
const EXTLINUX_CONF = '/boot/extlinux/extlinux.conf';
const GRUB_DEFAULT = '/etc/default/grub';

export interface InstallOptions {
  root: string;
  volatile: string[] | null; // --volatile; else VOLATILE from the config, else the default list
  say: (line: string) => void;
}

export interface Converted {
  path: string;
  master: string; // the master copy it is in now
}

// Returns the paths it moved or created this time (none on a second run).
export async function install(opts: InstallOptions): Promise<Converted[]> {
  const { root, say } = opts;
  const host = (p: string) => hostPath(root, p);
  const s = readConfig(root, '').settings;
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
  const converted: Converted[] = [];
  // Seed 004: volatile directories become links into the scratch mount,
  // persistent ones links into the REMOTE mount; what they held goes into
  // the master copy each is filled (or first seeded) from.
  const convert = (paths: string[], mount: string, master: string): string[] => {
    const linked: string[] = [];
    for (const path of expandGlobs(root, paths)) {
      const c = planConversion(path, pathFact(root, path), mount);
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
        converted.push({ path, master });
        done.moved++;
        say(`install: ${path} moved into ${master}`);
      } else {
        const sticky = path === '/tmp' || path === '/var/tmp';
        mkdirSync(copy);
        chmodSync(copy, sticky ? 0o1777 : 0o755);
        manifest.created.push({ path, master });
        converted.push({ path, master });
        done.created++;
        say(`install: ${path} created in ${master}`);
      }
      mkdirSync(dirname(host(path)), { recursive: true });
      symlinkSync(mount + path, host(path));
      writeManifest(root, manifest);
    }
    return linked;
  };
  const volatile = opts.volatile ?? (s.volatile.length > 0 ? s.volatile : DEFAULT_VOLATILE);
  manifest.volatileGlobs = [...new Set([...(manifest.volatileGlobs ?? []), ...volatile.filter((p) => p.endsWith('/*'))])];
  const linked = convert(volatile, s.rwMount, s.rwMaster);
  const persistent = convert(s.persistent, s.remoteMount, s.remoteMaster);

  const edit = (path: string, change: (text: string | null) => string | null) => editFile(root, manifest, path, change, say);
  // VOLATILE says exactly which links exist: globs (/var/spool/*) expanded.
  edit(CONFIG_FILES.roroot, (text) => {
    const line = `VOLATILE="${linked.join(' ')}"`;
    if (text === null) return `# roroot: see roroot boot --help. Written by roroot install.\n${line}\n`;
    const current = /^\s*(export\s+)?VOLATILE=.*$/m;
    return current.test(text) ? text.replace(current, line) : `${text.replace(/\n?$/, '\n')}${line}\n`;
  });
  ensureMtabLink(root, manifest, say);
  if (!s.devtmpfs) divertLogin(root, manifest, say);
  edit(CONFIG_FILES.fstab, (text) => {
    if (text === null) return null;
    const rootLine = parseFstab(CONFIG_FILES.fstab, text).entries.find((e) => e.file === '/');
    if (!rootLine) {
      say('install: /etc/fstab has no line for /: add one with "ro" yourself');
      return null;
    }
    const options = readOnlyOptions(rootLine.options);
    if (!options) return null;
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
  const grub = edit(GRUB_DEFAULT, (text) => addInit(text, /^(GRUB_CMDLINE_LINUX=")(.*)(")$/m));
  writeManifest(root, manifest);
  if (grub) say('install: run update-grub to apply the new kernel command line');
  if (root === '/' && linked.length > 0) await mountScratchNow(say);
  if (!existsSync(host(INIT_PATH))) say(`install: ${INIT_PATH} is missing: the kernel cannot start roroot (install the roroot package)`);
  say(`install: done; ${done.moved} moved, ${done.created} created, volatile: ${linked.join(' ') || 'none'}${persistent.length > 0 ? `, persistent: ${persistent.join(' ')}` : ''}`);
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
  await execute(steps, { root: '/', log, mounted: new Set(readMounts('/').map((m) => m.target)) });
}

function changed(text: string, before: string): string | null {
  return text === before ? null : text;
}

// '/var/spool/*': each directory under /var/spool, as the seed lists them.
function expandGlobs(root: string, paths: string[]): string[] {
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

// `roroot uninstall`: every change install recorded, undone, newest first.
export function uninstall(opts: { root: string; say: (line: string) => void }): number {
  const { root, say } = opts;
  const host = (p: string) => hostPath(root, p);
  const manifest = readManifest(root);
  if (!manifest) {
    say(`uninstall: no ${MANIFEST}: roroot install did not run here, nothing to undo`);
    return 0;
  }
  const removeLink = (path: string) => {
    const st = lstatOrNull(host(path));
    if (st?.isSymbolicLink()) unlinkSync(host(path));
  };
  for (const { path, master } of [...manifest.created].reverse()) {
    removeLink(path);
    rmSync(host(master + path), { recursive: true, force: true });
  }
  for (const { path, master } of [...manifest.moved].reverse()) {
    removeLink(path);
    moveTree(host(master + path), host(path));
    say(`uninstall: ${path} moved back`);
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
