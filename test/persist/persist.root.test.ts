import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { BUNDLE, lines, Router } from '../support/router';
import { buildTree } from '../support/system-tree';

// roroot persist's whole lifecycle on a state partition, on loop devices:
// add, edit, reboot with a re-made scratch, diff, revert, factory-reset;
// the identity kept across boots; bad paths refused, changing nothing.

const t = suite('persist (root, loop devices)');
let r: Router;
t.before.each(() => {
  r = new Router('persist', 80, [32, 32]);
  buildTree(r.tree, { conf: `RW_DEVICE=PARTUUID=${r.disk.partuuid(1)}\nRW_LABEL=\nSTATE_LABEL=${r.stateLabel}\nVOLATILE="/tmp /var/log"\nOVERLAY=/etc/ppp\n` });
  mkdirSync(join(r.tree, 'etc/app/dir'), { recursive: true });
  writeFileSync(join(r.tree, 'etc/app/app.conf'), 'factory\n');
  writeFileSync(join(r.tree, 'etc/app/dir/a'), 'a\n');
  writeFileSync(join(r.tree, 'etc/motd'), 'factory motd\n');
  writeFileSync(join(r.tree, 'etc/machine-id'), ''); // as an image ships it: empty, never baked
  mkdirSync(join(r.tree, 'etc/ppp'));
});
t.after.each(() => r.close());

const FORMAT = () => `mkfs.ext4 -q -L ${r.stateLabel} ${r.disk.partition(2)}`;
const P = () => `p() { node ${BUNDLE} persist --root ${r.tree} "$@"; }`;

t('add, edit, reboot, diff, revert, factory-reset; the machine id the same at every boot', () => {
  const b1 = r.boot({
    before: FORMAT(),
    after: `${P()}
echo "=== add"; p add /etc/app; p add /etc/motd; p add /etc/ppp/peer.conf
inside 'echo mine > /etc/app/app.conf; rm /etc/app/dir/a; echo new > /etc/app/dir/b; echo "my motd" > /etc/motd; echo "peer" > /etc/ppp/peer.conf'
echo "=== list"; p list --json
echo "=== id"; inside 'cat /etc/machine-id'
echo "=== stored"; cat ${r.tree}/var/lib/roroot/state/files`,
  });
  assert.is(b1.s.rc.trim(), '0', b1.stdout + b1.stderr);
  assert.match(b1.s.add, /persist: \/etc\/app added: its content is kept on \/var\/lib\/roroot\/state, bound now/);
  const list = JSON.parse(b1.s.list) as { path: string; kind: string; state: string }[];
  assert.equal(list.filter((x) => x.kind === 'state-file').map((x) => `${x.path} ${x.state}`), ['/etc/app in place', '/etc/motd in place', '/etc/ppp/peer.conf in place']);
  assert.ok(list.some((x) => x.kind === 'identity' && x.path === '/etc/machine-id' && x.state === 'in place'), b1.s.list);
  assert.match(b1.s.id, /^[0-9a-f]{32}\n$/, 'a machine id, made by roroot');
  assert.equal(lines(b1.s.stored).filter((l) => !l.startsWith('#')), ['/etc/app', '/etc/motd', '/etc/ppp/peer.conf']);

  const b2 = r.boot({
    after: `${P()}
echo "=== seen"; inside 'cat /etc/app/app.conf; ls /etc/app/dir; cat /etc/motd /etc/ppp/peer.conf'
echo "=== id"; inside 'cat /etc/machine-id'
echo "=== diff"; p diff --json
echo "=== difftext"; p diff /etc/motd
echo "=== revert"; p revert /etc/app; inside 'cat /etc/app/app.conf; ls /etc/app/dir'
echo "=== reset"; p factory-reset; inside 'cat /etc/motd'
echo "=== id2"; inside 'cat /etc/machine-id'`,
  });
  assert.is(b2.s.rc.trim(), '0', b2.stdout + b2.stderr);
  assert.equal(lines(b2.s.seen), ['mine', 'b', 'my motd', 'peer'], 'kept across a boot whose scratch was made again');
  assert.is(b2.s.id, b1.s.id, 'the same machine id');
  const diffs = JSON.parse(b2.s.diff) as { path: string; same: boolean; added?: string[]; removed?: string[]; changed?: string[]; diff?: string }[];
  const app = diffs.find((d) => d.path === '/etc/app');
  assert.equal([app?.added, app?.removed, app?.changed], [['/etc/app/dir/b'], ['/etc/app/dir/a'], ['/etc/app/app.conf']]);
  assert.match(diffs.find((d) => d.path === '/etc/motd')?.diff ?? '', /^--- factory\/etc\/motd\n\+\+\+ persisted\/etc\/motd\n@@ .* @@\n-factory motd\n\+my motd\n/);
  assert.match(b2.s.difftext, /-factory motd\n\+my motd/);
  assert.equal(lines(b2.s.revert).slice(-3), ['persist: /etc/app reverted to the factory content, bound now', 'factory', 'a']);
  assert.equal(lines(b2.s.reset).slice(-1), ['factory motd']);
  assert.is(b2.s.id2, b1.s.id, 'factory-reset keeps the identity');
});

t('bad paths get a precise error and change nothing', () => {
  const b = r.boot({
    before: FORMAT(),
    after: `${P()}
for x in relative /etc/../etc/motd /var/log/x /proc/cpuinfo /var/lib/roroot/volatile/x /var/lib/roroot/state /etc/shadow /etc/nope.conf /etc/app; do
  echo "=== $(echo $x | tr -c 'a-z0-9\\n' '_')"; rc=0; p add $x 2>&1 || rc=$?; echo "rc=$rc"
done
echo "=== list"; cat ${r.tree}/var/lib/roroot/state/files`,
  });
  assert.is(b.s.rc.trim(), '0');
  const said = (k: string) => b.s[k] ?? '';
  assert.match(said('relative'), /roroot persist: path "relative" must be absolute\nrc=1/);
  assert.match(said('_etc____etc_motd'), /must not contain "\.\."\nrc=1/);
  assert.match(said('_var_log_x'), /\/var\/log\/x goes through the symlink \/var\/log -> \/var\/lib\/roroot\/volatile\/var\/log\nrc=1/);
  assert.match(said('_proc_cpuinfo'), /is under \/proc, the kernel's\nrc=1/);
  assert.match(said('_var_lib_roroot_volatile_x'), /\/var\/lib\/roroot\/volatile\/x (does not exist|is on the scratch space)/);
  assert.match(said('_var_lib_roroot_state'), /\/var\/lib\/roroot\/state is a mount point/);
  assert.match(said('_etc_shadow'), /refused by the router's policy: \/etc\/shadow: no store may bind over it\nrc=1/);
  assert.match(said('_etc_nope_conf'), /\/etc\/nope\.conf does not exist, and nothing can make it on the read-only root/);
  assert.match(said('_etc_app'), /rc=0/);
  assert.equal(lines(b.s.list).filter((l) => !l.startsWith('#')), ['/etc/app'], 'only the good one is listed');
});

t('identity under volatile places (the reference image: /var/lib/systemd and /var/lib/dhcp are links into the scratch): kept on the state, the same at the next boot', () => {
  // The planner saw these paths before the scratch was mounted, when the
  // links pointed at nothing: it skipped them, and status found them unbound.
  mkdirSync(join(r.tree, 'var/lib/roroot/volatile.ini/var/lib/systemd'), { recursive: true });
  mkdirSync(join(r.tree, 'var/lib/roroot/volatile.ini/var/lib/dhcp'), { recursive: true });
  symlinkSync('/var/lib/roroot/volatile/var/lib/systemd', join(r.tree, 'var/lib/systemd'));
  symlinkSync('/var/lib/roroot/volatile/var/lib/dhcp', join(r.tree, 'var/lib/dhcp'));
  writeFileSync(join(r.tree, 'etc/roroot.conf'), readFileSync(join(r.tree, 'etc/roroot.conf'), 'utf8').replace('VOLATILE="/tmp /var/log"', 'VOLATILE="/tmp /var/log /var/lib/systemd /var/lib/dhcp"'));
  const look = `echo "=== seed"; inside 'od -An -tx1 /var/lib/systemd/random-seed | tr -d " \\n"; echo'
echo "=== lease"; inside 'ls /var/lib/dhcp'
echo "=== status"; node ${BUNDLE} status --root ${r.tree} --json`;
  const b1 = r.boot({ before: FORMAT(), after: `inside 'echo lease1 > /var/lib/dhcp/dhclient.leases'\n${look}` });
  assert.is(b1.s.rc.trim(), '0', b1.stdout + b1.stderr);
  const status = JSON.parse(b1.s.status) as { places: { path: string; ok: boolean; state: string }[] };
  const of = (p: string) => status.places.find((x) => x.path === p && x.state === 'in place');
  assert.ok(of('/var/lib/systemd/random-seed') && of('/var/lib/dhcp'), b1.s.status);
  assert.ok(status.places.every((x) => x.ok), b1.s.status);
  assert.match(b1.s.seed, /^[0-9a-f]{1024}\n$/, 'a 512-byte random seed, made by roroot');
  const b2 = r.boot({ after: look });
  assert.is(b2.s.rc.trim(), '0', b2.stdout + b2.stderr);
  assert.is(b2.s.seed, b1.s.seed, 'the seed kept on the state (nothing ran to refresh it here)');
  assert.equal(lines(b2.s.lease), ['dhclient.leases'], 'the lease kept across a re-made scratch');
});

t.run();
