import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseFlags, rootFlag } from '../../init/cli/args';

const t = suite('cli/args');
const spec = { string: ['root', 'kmsg'], boolean: ['json'], on: ['background'], positional: false };

t('known flags; --no-X for booleans that default on', () => {
  const p = parseFlags(['--root', '/mnt', '--json', '--no-background'], spec);
  assert.ok(!('error' in p));
  if ('error' in p) return;
  assert.is(p.flags.root, '/mnt');
  assert.is(p.flags.json, true);
  assert.is(p.flags.background, false);
  const d = parseFlags([], spec);
  assert.ok(!('error' in d) && d.flags.background === true);
});

t('unknown flags, missing values, repeats and stray operands are errors', () => {
  assert.equal(parseFlags(['--dryrun'], spec), { error: 'unknown option --dryrun' });
  assert.equal(parseFlags(['--root'], spec), { error: '--root needs a value' });
  assert.equal(parseFlags(['--root', '/a', '--root', '/b'], spec), { error: '--root given more than once' });
  assert.equal(parseFlags(['extra'], spec), { error: 'unexpected argument "extra"' });
  assert.equal(parseFlags(['-x'], spec), { error: 'unknown option -x' });
});

t('--root defaults to / and is made absolute', () => {
  assert.is(rootFlag({}), '/');
  assert.is(rootFlag({ root: '/a/b/' }), '/a/b');
});

t.run();
