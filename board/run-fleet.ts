import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import minimist from 'minimist';
import { Fleet, residentMiB, sha256 } from './fleet';

// `make fleet N=4`: N routers boot the one qemu-fleet image at once. Each
// logs in on its serial console, says who it is and where its state is,
// writes a file into its state; then all power off, and the image's
// checksum must be what it was. Prints boot-to-login and memory per router.
// node build/board/run-fleet.js --image X.img --board board/qemu-fleet.conf -n 4
//   [--mem MiB] [--tcg-cache MiB: TCG's translation cache per router, 0 = QEMU's 1 GiB]

const args = minimist(process.argv.slice(2), { string: ['image', 'board'], default: { n: 4, mem: 256, 'tcg-cache': 128 } });
const image = resolve(args.image ?? 'build/image/qemu-fleet.img');
const boardFile = resolve(args.board ?? 'board/qemu-fleet.conf');
const size = Number(args.n);
const say = (line: string) => process.stdout.write(`fleet: ${line}\n`);

interface Row {
  index: number;
  hostname: string;
  address: string;
  state: string;
  loginS: number;
  qemuRssMiB: number;
  guestUsedMiB: number;
  own: boolean; // sees its own file and no other router's
}

async function main(): Promise<number> {
  if (!(size >= 1 && size <= 16)) throw new Error(`-n ${args.n}: a fleet of 1 to 16 routers`);
  const before = await sha256(image);
  const work = mkdtempSync(join(tmpdir(), 'roroot-fleet-'));
  const fleet = await Fleet.start(image, boardFile, work, size, Number(args.mem), Number(args['tcg-cache']));
  say(`${size} router(s) from ${image} (read-only, sha256 ${before.slice(0, 16)}...), NFS on 127.0.0.1:${fleet.nfs.port}, ${args.mem} MiB each`);
  try {
    const guests = fleet.members.map((m) => fleet.boot(m.index));
    const rows: Row[] = await Promise.all(
      guests.map(async (g, index): Promise<Row> => {
        const ms = await g.login('root', 'roroot', 600);
        const hostname = (await g.sh('hostname')).out.trim();
        const address = (await g.sh("ip -4 -o addr show scope global | awk '{print $4}'")).out.trim();
        const state = (await g.sh('findmnt -n -o SOURCE /var/lib/roroot/state')).out.trim();
        const used = (await g.sh("awk '/^MemTotal/{t=$2} /^MemAvailable/{a=$2} END{print int((t-a)/1024)}' /proc/meminfo")).out.trim();
        await g.sh(`echo ${hostname} > /root/mine && sync`);
        say(`router ${index} ${hostname} at login after ${(ms / 1000).toFixed(1)} s`);
        return { index, hostname, address, state, loginS: ms / 1000, qemuRssMiB: residentMiB(g.pid), guestUsedMiB: Number(used), own: false };
      }),
    );
    for (const [i, g] of guests.entries()) {
      const seen = (await g.sh('cat /root/mine; ls /var/lib/roroot/state/')).out;
      const mine = readFileSync(join(fleet.stateDir(rows[i].hostname), 'root/mine'), 'utf8');
      rows[i].own = seen.startsWith(`${rows[i].hostname}\n`) && !/ip-\d/.test(seen.slice(rows[i].hostname.length)) && mine === `${rows[i].hostname}\n`;
    }
    await Promise.all(guests.map((g) => g.poweroff()));
    const after = await sha256(image);
    report(rows, before === after);
    const names = new Set(rows.map((r) => r.hostname));
    return names.size === size && rows.every((r) => r.own) && before === after ? 0 : 1;
  } finally {
    await fleet.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

function report(rows: Row[], imageUnchanged: boolean) {
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
  say('router  hostname        address        state directory                         login    QEMU RSS  guest used  own state only');
  for (const r of rows) {
    say(
      `${String(r.index).padEnd(7)} ${r.hostname.padEnd(15)} ${r.address.padEnd(14)} ${r.state.padEnd(39)} ${r.loginS.toFixed(1).padStart(5)} s ${String(r.qemuRssMiB).padStart(5)} MiB ${String(r.guestUsedMiB).padStart(6)} MiB  ${r.own ? 'yes' : 'NO'}`,
    );
  }
  say(`N=${rows.length}: boot to login median ${median(rows.map((r) => r.loginS)).toFixed(1)} s (max ${Math.max(...rows.map((r) => r.loginS)).toFixed(1)} s), QEMU RSS median ${median(rows.map((r) => r.qemuRssMiB))} MiB, image ${imageUnchanged ? 'unchanged' : 'CHANGED'}`);
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`fleet: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
