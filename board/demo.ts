import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { NfsServer } from './nfs-server';
import { qemuArgs } from './qemu';

// `make demo`: the reference router booted by QEMU from its own disk, its
// serial console on this terminal, its NFS server (nfs-ganesha) on
// 127.0.0.1. The image stays as built: the router writes to an overlay that
// is dropped when the demo ends. Quitting QEMU stops the server too.

const image = resolve(process.argv[2] ?? 'build/image/qemu-x86_64.img');

async function main() {
  const work = mkdtempSync(join(tmpdir(), 'roroot-demo-'));
  const nfs = await NfsServer.start(join(work, 'nfs'));
  const disk = join(work, 'disk.qcow2');
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', image, '-F', 'raw', disk]);
  process.stdout.write(
    [
      '',
      `roroot demo: ${image}`,
      `  NFS server: nfs-ganesha on 127.0.0.1:${nfs.port}, export ${nfs.exportDir} (the router's 10.0.2.100:/export)`,
      '  log in as root, password roroot; try: roroot status, touch /x, ls -l /tmp /var/log',
      '  quit: Ctrl-A then X (or poweroff in the router)',
      '',
    ].join('\n') + '\n',
  );
  const qemu = spawn('qemu-system-x86_64', qemuArgs({ disk, format: 'qcow2', memMiB: 256, nfsPort: nfs.port }), { stdio: 'inherit' });
  const cleanup = async () => {
    await nfs.stop();
    rmSync(work, { recursive: true, force: true });
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => qemu.kill('SIGTERM'));
  qemu.on('exit', async (code) => {
    await cleanup();
    process.stdout.write(`\nroroot demo: QEMU ended (${code ?? 'signal'}), NFS server stopped.\n`);
    process.exit(0);
  });
}

main().catch((err) => {
  process.stderr.write(`roroot demo: ${(err as Error).message}\n`);
  process.exit(1);
});
