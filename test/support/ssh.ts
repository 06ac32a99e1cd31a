import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { spawn as ptySpawn } from 'node-pty';
import { Guest } from '../../board/guest';

// A router reached the normal way: its SSH server, through QEMU's hostfwd
// on 127.0.0.1 (QemuOptions.sshPort). The host's OpenSSH client talks to
// the router's dropbear.

const run = promisify(execFile);

// A port of 127.0.0.1 free now, for one guest's hostfwd.
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

// The router's ed25519 host key as `ssh-keygen -l` prints it (bits,
// SHA256 fingerprint, comment, type). The server starts a little after
// the console's login prompt: asked again until it answers.
export async function hostKeyFingerprint(port: number, timeoutSec = 90): Promise<string> {
  const deadline = Date.now() + timeoutSec * 1000;
  let last = '';
  while (Date.now() < deadline) {
    const scan = await run('ssh-keyscan', ['-T', '5', '-t', 'ed25519', '-p', String(port), '127.0.0.1']).catch((err: { stderr?: string }) => ({ stdout: '', stderr: err.stderr ?? '' }));
    if (scan.stdout.includes('ssh-ed25519')) {
      const child = execFile('ssh-keygen', ['-l', '-f', '-']);
      const out = new Promise<string>((resolve, reject) => {
        let text = '';
        child.stdout?.on('data', (d) => (text += d));
        child.on('error', reject);
        child.on('close', (code) => (code === 0 ? resolve(text.split(' ')[1]) : reject(new Error(`ssh-keygen -l: exit ${code}`))));
      });
      child.stdin?.end(scan.stdout);
      return out;
    }
    last = scan.stderr;
    await new Promise((r) => setTimeout(r, 2000));
  }
  throw new Error(`no SSH host key on 127.0.0.1:${port} within ${timeoutSec} s: ${last}`);
}

// A root shell over SSH, driven as the serial console is (Guest.sh).
export async function sshLogin(port: number, password = 'roroot'): Promise<Guest> {
  const argv = ['-p', String(port), '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'PubkeyAuthentication=no', '-o', 'ConnectTimeout=20', 'root@127.0.0.1'];
  const g = new Guest(ptySpawn('ssh', argv, { cols: 240, rows: 60, env: process.env as Record<string, string> }));
  await g.expect(/password: /i, 60);
  g.type(password);
  await g.expect(/\w@\S+:\S*# /, 60);
  g.type("stty -echo cols 240; bind 'set enable-bracketed-paste off'");
  await g.sh('true');
  return g;
}
