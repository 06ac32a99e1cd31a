import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const t = suite('sys/crypto');
const BUNDLE = resolve(__dirname, '../../../dist/roroot.js');

// The bundle as a command loads it (every module's top level run, then
// --version): it never asks for node:crypto. A top-level import of it put
// OpenSSL's bindings in the startup snapshot and each boot stage's heap.
// Asked through require, as esbuild's bundle does (node 20 itself loads
// crypto at start, so its list of loaded modules cannot tell).
t('the bundle loads without asking for node:crypto', () => {
  const hook = `const M = require('module'); const asked = []; const r = M.prototype.require; M.prototype.require = function (id) { if (/crypto/.test(id)) asked.push(id); return r.apply(this, arguments); }; process.on('exit', () => console.log('asked: ' + (asked.join(',') || 'none')));`;
  const out = execFileSync(process.execPath, ['-e', `${hook} process.argv = [process.argv[0], ${JSON.stringify(BUNDLE)}, '--version']; require(${JSON.stringify(BUNDLE)});`], { encoding: 'utf8' });
  assert.match(out, /^0\.\d+\.\d+/, 'it ran');
  assert.is(out.trim().split('\n').pop(), 'asked: none');
});

t.run();
