import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BadDatabase, contentPath, installed, parseDiversions, type Stanza } from './dpkg-db';
import { Corrupt, fileType, S_IFREG, type Ext4 } from './ext4';
import { ADMIN, md5sumsOf, readDatabase, type PackageIndex, type Watched } from './package-index';

// packages_damaged: does dpkg find an installed file changed or missing
// (dpkg --verify), or a package left half-installed (dpkg --audit), on a
// crash state's root, journal replayed, that it did not find on the root
// as flashed? The host's dpkg (the image's version) runs on a small root
// of its own: the files the state may have changed (package-index.ts),
// read out of the state, under a database that lists just those; and for
// the same files as flashed, so that what the image shipped with (a
// conffile the image builder edited) is not counted. A package whose
// database entry changed is verified whole, and a changed database is
// audited. dpkg's answer for a file depends only on its expected hash and
// its bytes, and an audit's only on the database: both are asked once.

interface Audit {
  findings: string[];
  whole: Watched[]; // the files of packages whose entry changed
  stanzas: Map<string, Stanza>;
  diversions: string;
}

export class PackageCheck {
  private readonly audits = new Map<string, Audit>();
  private readonly verdicts = new Map<string, string | null>(); // a file as some state has it -> dpkg's line
  private readonly flashed = new Map<string, string | null>(); // a file as flashed -> dpkg's line
  private readonly flashedBytes = new Map<number, string>(); // a watched file's digest as flashed
  private flashedAudit: string[] | null = null;
  private mirrored = new Map<string, string>(); // the audit's copy of a database: path -> digest
  dpkgRuns = 0;

  constructor(
    private readonly index: PackageIndex,
    private readonly work: string,
  ) {}

  // What dpkg finds on `state` that it does not find as flashed.
  check(state: Ext4, changedBlocks: Iterable<number>): string[] {
    const a = this.index.affected(state, changedBlocks);
    if (a.broken) return [a.broken];
    let audit: Audit = { findings: [], whole: [], stanzas: this.index.stanzas, diversions: this.index.diversions };
    if (a.database) {
      try {
        audit = this.audit(state);
      } catch (err) {
        if (!(err instanceof Corrupt) && !(err instanceof BadDatabase)) throw err;
        return [`dpkg database: ${(err as Error).message}`];
      }
    }
    const findings = [...audit.findings];
    // dpkg --verify finds nothing in a file whose md5 is the one the
    // database expects, and gives a file whose bytes are as flashed the
    // answer it gave as flashed: only the others are asked about.
    const same = (pkg: string) => audit.stanzas.get(pkg)?.text === this.index.stanzas.get(pkg)?.text;
    const asked = [...[...a.files].map((id) => ({ f: this.index.files[id], id })), ...audit.whole.map((f) => ({ f, id: -1 }))]
      .map((x) => ({ ...x, data: content(state, x.f.at) }))
      .filter(({ f, id, data }) => {
        // Gone: a finding, unless it was gone as flashed already.
        if (data === null) return id < 0 || !same(f.pkg) || this.index.pristine.resolve(f.at) !== null;
        return !matches(f, data) && (id < 0 || !same(f.pkg) || digest(data) !== this.flashedDigest(id));
      })
      .map((x) => ({ ...x, key: fileKey(x.f, x.data) }));
    try {
      for (const [key, line] of this.verify('state', asked.filter((x) => !this.verdicts.has(x.key)), audit.stanzas, audit.diversions)) this.verdicts.set(key, line);
    } catch (err) {
      if (!(err instanceof BadDatabase)) throw err;
      return [...findings, `dpkg database: ${err.message}`];
    }
    // What dpkg said of a file there as flashed (a missing file was not).
    const then = asked.filter((x) => x.data !== null && this.index.stanzas.has(x.f.pkg)).map((x) => ({ f: x.f, key: flashedKey(x.f) }));
    const ask = then.filter((x) => !this.flashed.has(x.key)).map((x) => ({ ...x, data: content(this.index.pristine, x.f.at) }));
    for (const x of ask.filter((y) => matches(y.f, y.data))) this.flashed.set(x.key, null);
    for (const [key, line] of this.verify('flashed', ask.filter((y) => !matches(y.f, y.data)), this.index.stanzas, this.index.diversions)) this.flashed.set(key, line);
    for (const x of asked) {
      const line = this.verdicts.get(x.key) ?? null;
      const before = x.data !== null && this.index.stanzas.has(x.f.pkg) ? (this.flashed.get(flashedKey(x.f)) ?? null) : null;
      if (line !== null && line !== before) findings.push(`dpkg --verify: ${line}`);
    }
    return findings;
  }

  // dpkg --verify of these files with these bytes (null: absent), on a
  // root whose database lists them alone: dpkg's line for each key.
  private verify(name: string, files: { f: Watched; data: Buffer | null; key: string }[], stanzas: Map<string, Stanza>, diversions: string): Map<string, string | null> {
    const out = new Map<string, string | null>();
    if (files.length === 0) return out;
    this.dpkgRuns++;
    const root = join(this.work, `pkgcheck-${name}`);
    rmSync(root, { recursive: true, force: true });
    const admin = join(root, ADMIN);
    mkdirSync(join(admin, 'info'), { recursive: true });
    mkdirSync(join(admin, 'updates'));
    const byPkg = new Map<string, Watched[]>();
    for (const { f } of files) byPkg.set(f.pkg, [...(byPkg.get(f.pkg) ?? []), f]);
    const status: string[] = [];
    for (const [pkg, list] of byPkg) {
      const s = stanzas.get(pkg);
      if (!s) throw new Error(`${pkg}: no status stanza`);
      const conffiles = list.filter((f) => f.conffile).map((f) => ` ${f.path} ${f.hash}`);
      status.push(s.text.replace(/^Conffiles:\n(?: .*(?:\n|$))*/m, '').trim() + (conffiles.length ? `\nConffiles:\n${conffiles.join('\n')}` : ''));
      writeFileSync(join(admin, 'info', `${pkg}.list`), list.map((f) => f.path).join('\n') + '\n');
      writeFileSync(join(admin, 'info', `${pkg}.md5sums`), list.filter((f) => !f.conffile).map((f) => `${f.hash}  ${f.path.slice(1)}\n`).join(''));
    }
    writeFileSync(join(admin, 'status'), status.join('\n\n') + '\n');
    writeFileSync(join(admin, 'diversions'), diversions);
    for (const { f, data } of files) {
      if (!data) continue;
      mkdirSync(dirname(join(root, f.at)), { recursive: true });
      writeFileSync(join(root, f.at), data);
    }
    const r = spawnSync('dpkg', [`--root=${root}`, '--verify', ...byPkg.keys()], { encoding: 'utf8', maxBuffer: 64 << 20 });
    rmSync(root, { recursive: true, force: true });
    if (r.status !== 0 && r.status !== 1) {
      // The state's own stanzas: dpkg cannot read the database it left.
      const why = `dpkg --verify: exit ${r.status}: ${r.stderr.trim().replace(/\s+/g, ' ')}`;
      if (name === 'state') throw new BadDatabase(why.replace(root, ''));
      throw new Error(`dpkg --root=${root} --verify: exit ${r.status}: ${r.stderr.trim()}`);
    }
    // "??5?????? c /etc/x": nine flags, a space, c for a conffile, a space.
    const lines = new Map<string, string>();
    for (const l of r.stdout.split('\n')) if (l.length > 12) lines.set(l.slice(12), l);
    for (const { f, key } of files) out.set(key, lines.get(f.at) ?? null);
    return out;
  }

  private flashedDigest(id: number): string {
    if (!this.flashedBytes.has(id)) this.flashedBytes.set(id, digest(content(this.index.pristine, this.index.files[id].at)));
    return this.flashedBytes.get(id) as string;
  }

  // The state's database: packages gone from it, dpkg --audit's findings
  // on a copy of it, and the packages whose entry differs from the one
  // flashed (to be verified whole).
  private audit(state: Ext4): Audit {
    const db = readDatabase(state);
    const key = createHash('sha1').update(db.text).digest('hex');
    const known = this.audits.get(key);
    if (known) return known;
    const findings: string[] = [];
    for (const name of this.index.stanzas.keys()) if (!db.stanzas.has(name)) findings.push(`${name}: gone from ${ADMIN}/status`);
    this.flashedAudit ??= this.runAudit(this.index.pristine, readDatabase(this.index.pristine).paths);
    const asFlashed = this.flashedAudit;
    findings.push(...this.runAudit(state, db.paths).filter((l) => !asFlashed.includes(l)).map((l) => `dpkg --audit: ${l}`));
    const divs = parseDiversions(db.diversions);
    const whole: Watched[] = [];
    for (const s of db.stanzas.values()) {
      if (this.index.stanzas.get(s.name)?.text === s.text || !installed(s)) continue;
      for (const c of s.conffiles) whole.push({ pkg: s.name, path: c.path, at: contentPath(c.path, s.name, divs), hash: c.hash, conffile: true });
      for (const f of md5sumsOf(state, s.name)) whole.push({ pkg: s.name, path: f.path, at: contentPath(f.path, s.name, divs), hash: f.hash, conffile: false });
    }
    const audit = { findings, whole, stanzas: db.stanzas, diversions: db.diversions };
    this.audits.set(key, audit);
    return audit;
  }

  // dpkg --audit on a copy of a root's database, kept between audits:
  // only what differs from the last copy is written.
  private runAudit(fs: Ext4, paths: string[]): string[] {
    this.dpkgRuns++;
    const root = join(this.work, 'pkgcheck-audit');
    if (this.mirrored.size === 0) {
      rmSync(root, { recursive: true, force: true });
      mkdirSync(join(root, ADMIN, 'info'), { recursive: true });
      mkdirSync(join(root, ADMIN, 'updates'));
    }
    const now = new Map<string, string>();
    for (const p of paths) {
      const data = content(fs, p);
      if (data === null) continue;
      const d = digest(data);
      now.set(p, d);
      if (this.mirrored.get(p) !== d) writeFileSync(join(root, p), data);
    }
    for (const p of this.mirrored.keys()) if (!now.has(p)) rmSync(join(root, p), { force: true });
    this.mirrored = now;
    const r = spawnSync('dpkg', [`--root=${root}`, '--audit'], { encoding: 'utf8' });
    const out = (r.stdout + r.stderr).split('\n').filter((l) => l.trim());
    return r.status !== 0 && out.length === 0 ? [`exit ${r.status}`] : out;
  }

  close() {
    rmSync(join(this.work, 'pkgcheck-audit'), { recursive: true, force: true });
  }
}

const matches = (f: Watched, data: Buffer | null) => data !== null && createHash('md5').update(data).digest('hex') === f.hash;

const digest = (data: Buffer | null) => (data ? createHash('sha1').update(data).digest('hex') : 'missing');

const flashedKey = (f: Watched) => [f.pkg, f.path, f.hash].join('\0');

// What dpkg's answer for a file depends on.
function fileKey(f: Watched, data: Buffer | null): string {
  return [f.pkg, f.path, f.at, f.hash, f.conffile, digest(data)].join('\0');
}

// A regular file's bytes, or null when the path does not lead to one.
function content(fs: Ext4, path: string): Buffer | null {
  try {
    const ino = fs.resolve(path);
    if (ino === null) return null;
    const inode = fs.inode(ino);
    return fileType(inode) === S_IFREG ? fs.data(inode) : null;
  } catch (err) {
    if (err instanceof Corrupt) return null;
    throw err;
  }
}
