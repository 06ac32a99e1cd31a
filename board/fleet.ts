import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Board } from '../init/config/board';
import { requireBoard } from '../init/flash/load-board';
import { Guest } from './guest';
import { NfsServer } from './nfs-server';
import { hardwareOf } from './qemu';

// The stateless fleet (seed 000): N routers boot ONE image file, which every
// QEMU opens read-only, each with a scratch disk of its own and a network of
// its own; their state lives on one nfs-ganesha at
// $CLIENTSTATE/$HOSTNAME, which a new router creates for itself.

// Bound over the root by every router from its own state directory: a new
// router's directory starts with this list (the server-side template).
const FLEET_FILES = ['/root'];

export interface Member {
  index: number;
  scratch: string; // raw file, the guest's /dev/vdb
  guest: Guest | null;
}

export class Fleet {
  readonly members: Member[];

  private constructor(
    readonly image: string,
    readonly board: Board,
    readonly nfs: NfsServer,
    readonly memMiB: number,
    readonly tcgCacheMiB: number,
    size: number,
    work: string,
  ) {
    this.members = Array.from({ length: size }, (_, index) => ({ index, scratch: join(work, `scratch-${index}.raw`), guest: null }));
  }

  // The NFS export holds only CLIENTSTATE's directory and its `files`
  // template: every router's own directory is made by the router.
  static async start(image: string, boardFile: string, work: string, size: number, memMiB = 256, tcgCacheMiB = 128): Promise<Fleet> {
    const board = requireBoard(boardFile);
    if (!board.rootShared || board.scratch.kind !== 'disk' || !board.clientState) {
      throw new Error(`${boardFile}: a fleet board has ROOT_SHARED=yes, a scratch disk of its own and CLIENTSTATE`);
    }
    const nfs = await NfsServer.start(join(work, 'nfs'));
    const clients = nfs.hostPath(board.clientState);
    mkdirSync(clients, { recursive: true });
    writeFileSync(join(clients, 'files'), `# bound from each router's own state directory\n${FLEET_FILES.join('\n')}\n`);
    const fleet = new Fleet(image, board, nfs, memMiB, tcgCacheMiB, size, work);
    for (const m of fleet.members) {
      writeFileSync(m.scratch, '');
      truncateSync(m.scratch, board.rwSizeMiB * 1024 * 1024);
    }
    return fleet;
  }

  // Where router `hostname`'s state lands on this machine.
  stateDir(hostname: string): string {
    return join(this.nfs.hostPath(this.board.clientState as string), hostname);
  }

  boot(index: number): Guest {
    const m = this.members[index];
    if (m.guest?.running) throw new Error(`fleet member ${index} is running`);
    m.guest = Guest.boot({ disk: this.image, format: 'raw', hardware: hardwareOf(this.board), readOnly: true, scratchDisk: m.scratch, memMiB: this.memMiB, tcgCacheMiB: this.tcgCacheMiB, nfsPort: this.nfs.port, fleetIndex: index });
    return m.guest;
  }

  async stop() {
    for (const m of this.members) m.guest?.kill();
    await this.nfs.stop();
  }
}

// A guest's memory as the host pays for it: the resident set of its QEMU.
export function residentMiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

export function sha256(file: string): Promise<string> {
  if (!existsSync(file)) return Promise.reject(new Error(`${file} is missing`));
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (d) => h.update(d))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', reject);
  });
}
