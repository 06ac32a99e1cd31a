import { execFileSync } from 'node:child_process';
import { existsSync, truncateSync, writeFileSync } from 'node:fs';

// A partitioned disk image attached to a loop device, for system tests. The
// image is a file under the test's temp dir; the loop device is detached by
// detach(), which every test calls in a finally block.

export class LoopDisk {
  private constructor(
    readonly image: string,
    readonly device: string,
    readonly diskId: string, // MBR disk identifier, as in PARTUUID=<diskId>-NN
  ) {}

  // sizes in MiB, one partition each; MBR, like the router images.
  static create(image: string, totalMiB: number, partitionsMiB: number[]): LoopDisk {
    writeFileSync(image, '');
    truncateSync(image, totalMiB * 1024 * 1024);
    const script = ['label: dos', ...partitionsMiB.map((size, i) => (i === partitionsMiB.length - 1 && size === 0 ? ',,L' : `,${size}M,L`))].join('\n');
    execFileSync('sfdisk', ['-q', image], { input: script + '\n' });
    const device = execFileSync('losetup', ['--find', '--show', '--partscan', image], { encoding: 'utf8' }).trim();
    const disk = new LoopDisk(image, device, '');
    try {
      // On some kernels the scan at attach time finds nothing; ask again and
      // wait for devtmpfs to show the partition nodes.
      execFileSync('partx', ['-u', device]);
      for (let i = 0; i < 100 && !partitionsMiB.every((_, n) => existsSync(disk.partition(n + 1))); i++) execFileSync('sleep', ['0.05']);
      if (!existsSync(disk.partition(partitionsMiB.length))) throw new Error(`${device}: partitions did not appear`);
      const id = execFileSync('blkid', ['-c', '/dev/null', '-o', 'value', '-s', 'PTUUID', device], { encoding: 'utf8' }).trim();
      return new LoopDisk(image, device, id);
    } catch (err) {
      disk.detach();
      throw err;
    }
  }

  partition(n: number): string {
    return `${this.device}p${n}`;
  }

  partuuid(n: number): string {
    return `${this.diskId}-${String(n).padStart(2, '0')}`;
  }

  detach() {
    execFileSync('losetup', ['-d', this.device]);
  }
}
