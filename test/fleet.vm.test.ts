import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Fleet, sha256 } from '../board/fleet';
import type { Guest } from '../board/guest';

// The stateless fleet (make fleet): two routers boot the one qemu-fleet
// image at the same time, each QEMU opening the file read-only, each with
// its own scratch disk and network, their state on one NFS server.

const t = suite('fleet (QEMU, two routers, one read-only image)');
const repo = resolve(__dirname, '../..');
const IMAGE = join(repo, 'build/image/qemu-fleet.img');
let dir: string;
let fleet: Fleet;
let checksum: string;

t.before(async () => {
  if (!existsSync(IMAGE)) throw new Error(`${IMAGE} is missing: make ${IMAGE}`);
  checksum = await sha256(IMAGE);
  dir = mkdtempSync(join(tmpdir(), 'roroot-fleet-'));
  fleet = await Fleet.start(IMAGE, join(repo, 'board/qemu-fleet.conf'), dir, 2);
});
t.after(async () => {
  await fleet.stop();
  rmSync(dir, { recursive: true, force: true });
});

const json = <T>(text: string): T => JSON.parse(text.slice(text.indexOf('{'))) as T;
interface Status {
  root: { readOnly: boolean };
  stores: { name: string; mounted: boolean; source: string }[];
}

async function stateSource(g: Guest): Promise<string | undefined> {
  return json<Status>((await g.sh('roroot status --json')).out).stores.find((s) => s.name === 'state' && s.mounted)?.source;
}

const hosts = ['ip-10-0-2-15', 'ip-10-0-2-16'];
let machineIds: string[] = [];

t('two routers at once: their own names, scratch disks and state directories, created on the server at first boot', async () => {
  const guests = [fleet.boot(0), fleet.boot(1)];
  const ms = await Promise.all(guests.map((g) => g.login()));
  console.log(`  fleet: both at login: ${ms.map((m) => `${(m / 1000).toFixed(1)} s`).join(', ')}`);
  for (const [i, g] of guests.entries()) {
    const name = hosts[i];
    assert.is((await g.sh('hostname')).out, `${name}\n`, 'the name comes from the address');
    assert.is((await g.sh('cat /sys/block/vda/ro')).out, '1\n', 'the shared image is a read-only disk in the guest');
    assert.is((await g.sh('findmnt -n -o SOURCE /var/lib/roroot/volatile')).out, '/dev/vdb\n', 'scratch on its own disk');
    assert.is(await stateSource(g), `10.0.2.100:/export/clientstate/${name}`);
    assert.match((await g.sh('roroot status')).out, new RegExp(`state .*10\\.0\\.2\\.100:/export/clientstate/${name}`));
    assert.match((await g.sh('dmesg | grep "roroot: state: enrolled"')).out, `roroot: state: enrolled ${name}: created 10.0.2.100:/export/clientstate/${name}, files list from 10.0.2.100:/export/clientstate/files`);
    assert.is((await g.sh(`echo ${name} > /root/mine && sync`)).code, 0);
  }
  for (const [i, g] of guests.entries()) {
    assert.equal((await g.sh('ls /root/ /var/lib/roroot/state/')).out.split('\n').filter((l) => l === 'mine' || l.startsWith('ip-')), ['mine'], 'one file of its own, no other router in sight');
    assert.is((await g.sh('cat /root/mine')).out, `${hosts[i]}\n`);
    assert.is(readFileSync(join(fleet.stateDir(hosts[i]), 'root/mine'), 'utf8'), `${hosts[i]}\n`, 'on the server, in its own directory');
  }
  assert.equal(readdirSync(join(fleet.nfs.exportDir, 'clientstate')).sort(), ['files', ...hosts]);
  const ids = await Promise.all(guests.map(async (g) => (await g.sh('cat /etc/machine-id')).out));
  for (const id of ids) assert.match(id, /^[0-9a-f]{32}\n$/);
  assert.is.not(ids[0], ids[1], 'two routers from one image, two identities');
  machineIds = ids;
  // roroot persist on NFS: a file of the image added to the state, edited.
  const a = guests[0];
  assert.match((await a.sh('roroot persist add /etc/motd')).out, /persist: \/etc\/motd added/);
  assert.is((await a.sh('echo mine >> /etc/motd && sync')).code, 0, 'writable at once, no reboot');
  assert.match(readFileSync(join(fleet.stateDir(hosts[0]), 'etc/motd'), 'utf8'), /mine\n$/, 'on the server');
});

t('a reboot of one router: the other keeps running, both keep their state', async () => {
  const [a, b] = fleet.members.map((m) => m.guest as Guest);
  await a.poweroff();
  assert.is((await b.sh('echo during >> /root/mine && sync && cat /root/mine')).out, `${hosts[1]}\nduring\n`, 'b works while a is down');
  const again = fleet.boot(0);
  await again.login();
  assert.is((await again.sh('hostname')).out, `${hosts[0]}\n`);
  assert.is((await again.sh('cat /root/mine')).out, `${hosts[0]}\n`, 'its state survived the reboot');
  assert.is((await again.sh('dmesg | grep -c "roroot: state: enrolled"')).out, '0\n', 'its directory exists: no second enrolment');
  assert.is(await stateSource(again), `10.0.2.100:/export/clientstate/${hosts[0]}`);
  assert.is((await again.sh('cat /etc/machine-id')).out, machineIds[0], 'its identity survived the reboot, on NFS');
  assert.match((await again.sh('tail -n 1 /etc/motd')).out, /^mine\n$/, 'a persisted file survived the reboot');
  assert.match((await again.sh('roroot persist diff /etc/motd')).out, /\+mine\n/);
  assert.is((await again.sh('roroot persist revert /etc/motd')).code, 0);
  assert.not.match((await again.sh('cat /etc/motd')).out, /mine/, 'reverted to the factory content');
  assert.is((await b.sh('cat /root/mine')).out, `${hosts[1]}\nduring\n`, 'b did not notice');
  await Promise.all([again.poweroff(), b.poweroff()]);
});

t('the image file is byte for byte what was built', async () => {
  assert.is(await sha256(IMAGE), checksum);
});

t.run();
