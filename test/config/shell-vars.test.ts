import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseShellVars } from '../../init/config/shell-vars';

const t = suite('config/shell-vars');
const value = (text: string, key = 'A') => parseShellVars('f', text).values.get(key)?.value;

t('bare, quoted and exported values', () => {
  assert.is(value('A=b'), 'b');
  assert.is(value("A='b c'"), 'b c');
  assert.is(value('A="b \\"c\\" \\$x"'), 'b "c" $x');
  assert.is(value('export A=b'), 'b');
  assert.is(value('A=b # comment'), 'b');
  assert.is(value('A='), '');
  assert.is(value('A=x"y z"w'), 'xy zw');
});

t('comments and blank lines are not diagnostics', () => {
  const r = parseShellVars('f', '# a\n\n   \n  # b\nA=1\n');
  assert.is(r.diagnostics.length, 0);
  assert.is(r.values.get('A')?.line, 5);
});

t('bad lines are reported with file:line and skipped, the rest is read', () => {
  const r = parseShellVars('/etc/roroot.conf', 'A=1\nnot a setting\nB=$(rm -rf /)\nC="open\nD=a b\nE=2\n');
  assert.equal(
    r.diagnostics.map((d) => [d.line, d.message]),
    [
      [2, 'expected KEY=value, got "not a setting"'],
      [3, 'B: shell syntax "$" is not supported; write the value out'],
      [4, 'C: unterminated double quote'],
      [5, 'D: unquoted space in value (quote it: "a b")'],
    ],
  );
  assert.equal([...r.values.keys()], ['A', 'E']);
});

t('the last assignment wins, as in a sourced file', () => {
  assert.is(value('A=1\nA=2'), '2');
});

t.run();
