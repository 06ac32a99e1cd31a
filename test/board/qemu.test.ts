import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { hardwareOf, qemuArgs, VIRTIO_HARDWARE } from '../../board/qemu';
import { parseBoard, type Board } from '../../init/config/board';

// Each board in QEMU on its own hardware model, and the guest's one way
// out: restrict=on, guestfwd of the board's NFS address only.

const t = suite('board/qemu');
const board = (name: string): Board => {
  const file = join(__dirname, `../../../board/${name}.conf`);
  return parseBoard(name, file, readFileSync(file, 'utf8')).board as Board;
};
const option = (args: string[], flag: string) => args.filter((_, i) => args[i - 1] === flag);

t('the virtio boards are the reference hardware: virtio disk and NIC, the server at 10.0.2.100', () => {
  for (const name of ['qemu-x86_64', 'qemu-fleet', 'qemu-static-dev']) assert.equal(hardwareOf(board(name)), VIRTIO_HARDWARE, name);
});

t('pc-router: IDE disk, e1000, and its REMOTE 192.168.1.1 is the only address forwarded, to the server on 127.0.0.1', () => {
  const hardware = hardwareOf(board('pc-router'));
  assert.equal(hardware, { disk: 'ide', nic: 'e1000', nfsAddress: '192.168.1.1' });
  const args = qemuArgs({ disk: 'd.qcow2', format: 'qcow2', hardware, memMiB: 128, nfsPort: 20490 });
  assert.equal(option(args, '-drive'), ['file=d.qcow2,format=qcow2,if=ide']);
  assert.equal(option(args, '-device'), ['e1000,netdev=n0,addr=0x3']);
  assert.equal(option(args, '-netdev'), ['user,id=n0,restrict=on,net=192.168.1.0/24,guestfwd=tcp:192.168.1.1:2049-cmd:socat STDIO TCP:127.0.0.1:20490,,retry=60,,interval=1']);
});

t('no NFS port, no way out at all; a fleet member gets its own DHCP address in the board network', () => {
  assert.equal(option(qemuArgs({ disk: 'd', format: 'raw', memMiB: 256, nfsPort: null }), '-netdev'), ['user,id=n0,restrict=on,net=10.0.2.0/24']);
  const fleet = qemuArgs({ disk: 'd', format: 'raw', hardware: hardwareOf(board('qemu-fleet')), readOnly: true, scratchDisk: 's', memMiB: 256, nfsPort: 1, fleetIndex: 2 });
  assert.match(option(fleet, '-netdev')[0], /^user,id=n0,restrict=on,net=10\.0\.2\.0\/24,dhcpstart=10\.0\.2\.17,guestfwd=tcp:10\.0\.2\.100:2049-/);
  assert.equal(option(fleet, '-drive'), ['file=d,format=raw,if=virtio,readonly=on', 'file=s,format=raw,if=virtio']);
});

t('a board QEMU cannot model, or a server it cannot map, is refused by name', () => {
  const b = board('pc-router');
  assert.throws(() => hardwareOf({ ...b, netModules: ['r8169'] }), /board pc-router: QEMU emulates none of NET_MODULES \(r8169\)/);
  assert.throws(() => hardwareOf({ ...b, diskModules: ['nvme'] }), /QEMU emulates none of DISK_MODULES \(nvme\)/);
  assert.throws(() => hardwareOf({ ...b, remote: 'nas.lan:/export' }), /nas\.lan:\/export: QEMU can map only an IPv4 address/);
  assert.throws(() => qemuArgs({ disk: 's', format: 'nbd', hardware: hardwareOf(b), memMiB: 256, nfsPort: null }), /an NBD disk is attached as virtio-blk, not ide/);
});

t.run();
