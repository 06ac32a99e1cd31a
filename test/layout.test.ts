import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

// The README's Layout section, checked: the deciding half of the boot
// stage (config/, plan/, places/, the flash layout, the flag parser)
// touches nothing: no file system, no process, no network. Only sys/ and
// the commands (boot, status, install, rw, flash) do.

const t = suite('layout: which code touches the machine');

function repoRoot(): string {
  let d = __dirname;
  while (!existsSync(join(d, 'package.json'))) d = dirname(d);
  return d;
}
const INIT = join(repoRoot(), 'init');
const PURE = ['config', 'plan', 'places', 'cli', 'flash/layout.ts'];
const TOUCHES = /(from|require\()\s*'node:(fs|child_process|os|net|dns|dgram|http|https|tls)'/;

function ts(path: string): string[] {
  const full = join(INIT, path);
  if (statSync(full).isFile()) return [path];
  return readdirSync(full).flatMap((n) => ts(join(path, n)));
}

t('config/, plan/, places/, cli/ and flash/layout.ts import nothing that touches the machine, nor code that does', () => {
  const pure = PURE.flatMap(ts);
  assert.ok(pure.length > 30, pure.join(' '));
  for (const file of pure) {
    const text = readFileSync(join(INIT, file), 'utf8');
    assert.not.match(text, TOUCHES, file);
    for (const m of text.matchAll(/from '(\.[^']*)'/g)) {
      const target = join(dirname(file), m[1]);
      assert.ok(PURE.some((p) => target === p.replace(/\.ts$/, '') || target.startsWith(`${p}/`)), `${file} imports ${m[1]}, which is not pure`);
    }
  }
});

t.run();
