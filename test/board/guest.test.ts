import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node-pty';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Guest } from '../../board/guest';

// The serial driver's login against a console that prints what a booting
// guest's does: kernel messages that land right after a prompt, on its
// line (a campaign died on "Password: [  118.996978] powernow_k8: ..."). The
// console is a pty running login's dialogue and then an interactive bash;
// its dmesg is a function, so nothing of this machine is changed.

const t = suite('guest console (pty)');
let dir: string;

t.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'roroot-guest-'));
  writeFileSync(join(dir, 'rc'), "PS1='root@ip-10-0-2-15:~# '\ndmesg() { :; }\n( sleep 0.3; printf '[  120.000001] random: crng init done\\n' ) &\n");
  writeFileSync(
    join(dir, 'console.sh'),
    [
      "printf '\\nDebian GNU/Linux 12 ip-10-0-2-15 ttyS0\\n\\nip-10-0-2-15 login: '",
      'read user',
      "printf 'Password: [  118.996978] powernow_k8: Found 1 AMD processor\\n'",
      'read -s password',
      '[ "$user/$password" = root/secret ] || exit 1',
      `exec bash --rcfile ${join(dir, 'rc')} -i`,
    ].join('\n'),
  );
});
t.after(() => rmSync(dir, { recursive: true, force: true }));

t('login finds the password and shell prompts with a kernel message after each; commands run after it', async () => {
  const g = new Guest(spawn('bash', [join(dir, 'console.sh')], { cols: 240, rows: 60, env: { PATH: process.env.PATH as string, HOME: dir, TERM: 'dumb' } }));
  try {
    await g.login('root', 'secret', 10);
    const r = await g.sh('echo $((6 * 7))', 10);
    assert.equal(r, { out: '42\n', code: 0 });
  } finally {
    g.kill();
  }
});

t.run();
