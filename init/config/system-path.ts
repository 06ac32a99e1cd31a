import { hasControl, quoted } from './diagnostic';

// Every path in roroot's config names a place on the router's root. Boot
// mounts over, binds onto and copies into these paths while the root is
// read-only and nobody is watching, so a relative path or one with `..` (which
// could climb out of the scratch mount when joined to it) is refused outright.

export function checkSystemPath(path: string): string | null {
  if (!path.startsWith('/')) return `path ${quoted(path)} must be absolute`;
  if (path.split('/').includes('..')) return `path ${quoted(path)} must not contain ".."`;
  if (hasControl(path)) return `path ${quoted(path)} contains a control character`;
  return null;
}

// "/var//log/" -> "/var/log"; "/" stays "/".
export function normalizeSystemPath(path: string): string {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  return '/' + parts.join('/');
}

export function isUnder(path: string, dir: string): boolean {
  return dir === '/' || path === dir || path.startsWith(dir + '/');
}
