import { spawnSync } from 'node:child_process';

// Runs a shell script as root inside fresh, private mount, UTS and network
// namespaces: every mount it makes vanishes with it and never propagates to
// this machine, a hostname it sets is its own, and it has no network but
// loopback. The script runs with `set -eu`.

export interface ShellResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function inNamespace(script: string, env: Record<string, string> = {}): ShellResult {
  const r = spawnSync('unshare', ['--mount', '--uts', '--net', '--propagation', 'private', '--', 'sh', '-euc', script], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 120_000,
  });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

// Output of several commands in one namespace run, cut by "=== name" lines.
export function sections(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  let name = '';
  for (const line of stdout.replace(/\n$/, '').split('\n')) {
    const m = /^=== (\S+)$/.exec(line);
    if (m) {
      name = m[1];
      out[name] = '';
    } else if (name) out[name] += line + '\n';
  }
  return out;
}
