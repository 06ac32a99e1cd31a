import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// A larger master copy than the reference router's: `files` files of
// `bytes` in all, in a tree 3 levels deep (as /var/lib and /var/cache of a
// router with more packages), sizes spread from a few bytes to ~60 KB. The
// content is pseudo-random (a fixed seed), so every run restores the same
// tree and nothing compresses or dedups away.

export function syntheticMaster(dir: string, files: number, bytes: number) {
  let seed = 0x2f6b1d3;
  const next = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 0x100000000;
  };
  // Sizes skewed towards small files; scaled to the total afterwards.
  const weights = Array.from({ length: files }, () => next() ** 3);
  const scale = bytes / weights.reduce((a, b) => a + b, 0);
  const noise = Buffer.alloc(64 * 1024);
  for (let i = 0; i < noise.length; i++) noise[i] = Math.floor(next() * 256);
  for (let i = 0; i < files; i++) {
    const d = join(dir, `var/lib/pkg${i % 20}`, `sub${i % 7}`);
    mkdirSync(d, { recursive: true });
    const size = Math.min(noise.length, Math.max(1, Math.round(weights[i] * scale)));
    const at = Math.floor(next() * (noise.length - size));
    writeFileSync(join(d, `f${i}`), noise.subarray(at, at + size));
  }
}
