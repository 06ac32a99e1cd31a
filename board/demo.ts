import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { requireBoard } from '../init/flash/load-board';
import { NfsServer } from './nfs-server';
import { hardwareOf, qemuArgs } from './qemu';

// `make demo`: the reference router booted by QEMU from its own disk, its
// serial console on this terminal, its NFS server (nfs-ganesha) on
// 127.0.0.1. The image stays as built: the router writes to an overlay that
// is dropped when the demo ends. Quitting QEMU stops the server too. The
// board's own hardware model: make demo BOARD=pc-router boots an IDE disk
// and an e1000, its NFS server at the board's 192.168.1.1.
// node build/board/demo.js IMAGE BOARD.conf

const image = resolve(process.argv[2] ?? 'build/image/qemu-x86_64.img');
const boardFile = resolve(process.argv[3] ?? 'board/qemu-x86_64.conf');

async function main() {
  const board = requireBoard(boardFile);
  const hardware = hardwareOf(board);
  const work = mkdtempSync(join(tmpdir(), 'roroot-demo-'));
  const nfs = await NfsServer.start(join(work, 'nfs'));
  if (board.remote) mkdirSync(nfs.hostPath(board.remote), { recursive: true });
  const disk = join(work, 'disk.qcow2');
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', image, '-F', 'raw', disk]);
  process.stdout.write(
    [
      '',
      `roroot demo: ${image}`,
      `  NFS server: nfs-ganesha on 127.0.0.1:${nfs.port}, export ${nfs.exportDir} (the router's ${hardware.nfsAddress}:/export)`,
      '  log in as root, password roroot; try: roroot status, touch /x, ls -l /tmp /var/log',
      '  quit: Ctrl-A then X (or poweroff in the router)',
      '',
    ].join('\n') + '\n',
  );
  const qemu = spawn('qemu-system-x86_64', qemuArgs({ disk, format: 'qcow2', hardware, memMiB: 256, nfsPort: nfs.port }), { stdio: 'inherit' });
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
