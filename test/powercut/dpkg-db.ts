// Pure: dpkg's database as text (/var/lib/dpkg/status, updates/*, info/*.md5sums,
// diversions), what the power-cut harness's package check needs of it.

// A database a crash state left unreadable.
export class BadDatabase extends Error {}

export interface Stanza {
  name: string; // Package:Architecture when Multi-Arch: same, as info/ names it
  text: string; // the stanza as written
  status: string;
  conffiles: { path: string; hash: string }[];
}

// Stanzas by package, status first and then each update file in order, as
// dpkg reads them: a later stanza for a package replaces the earlier one.
export function parseStatus(texts: string[]): Map<string, Stanza> {
  const out = new Map<string, Stanza>();
  for (const text of texts) {
    for (const block of text.split(/\n\n+/)) {
      if (!block.trim()) continue;
      const field = (f: string) => new RegExp(`^${f}: *(.*)$`, 'm').exec(block)?.[1].trim();
      const pkg = field('Package');
      if (!pkg) throw new BadDatabase(`a status stanza without Package: ${JSON.stringify(block.slice(0, 60))}`);
      const arch = field('Architecture');
      const name = field('Multi-Arch') === 'same' && arch ? `${pkg}:${arch}` : pkg;
      const conffiles: Stanza['conffiles'] = [];
      const cf = /^Conffiles:\n((?: .*\n?)*)/m.exec(block);
      for (const line of (cf?.[1] ?? '').split('\n')) {
        const m = /^ (\S+) (\S+)/.exec(line);
        if (m) conffiles.push({ path: m[1], hash: m[2] });
      }
      out.set(name, { name, text: block.trim(), status: field('Status') ?? '', conffiles });
    }
  }
  return out;
}

// Packages whose files dpkg --verify checks.
export const installed = (s: Stanza) => /^\S+ ok (installed|half-configured|triggers-awaited|triggers-pending|unpacked)$/.test(s.status);

// info/PKG.md5sums: "hash  path" without the leading slash.
export function parseMd5sums(text: string): { path: string; hash: string }[] {
  return text
    .split('\n')
    .map((l) => /^([0-9a-f]{32}) [ *]?(.+)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ hash: m[1], path: `/${m[2]}` }));
}

// diversions: three lines each, from, to, the diverting package (":" for a
// local diversion). dpkg --verify checks a diverted file at its new name,
// except in the diverting package itself.
export function parseDiversions(text: string): { from: string; to: string; by: string }[] {
  const lines = text.split('\n');
  const out: { from: string; to: string; by: string }[] = [];
  for (let i = 0; i + 2 < lines.length; i += 3) if (lines[i]) out.push({ from: lines[i], to: lines[i + 1], by: lines[i + 2] });
  return out;
}

export function contentPath(path: string, pkg: string, diversions: { from: string; to: string; by: string }[]): string {
  const d = diversions.find((x) => x.from === path);
  return d && d.by !== pkg.split(':')[0] ? d.to : path;
}
