import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { BUNDLE, lines, mountsOf, Router } from '../support/router';
import { buildTree, RW } from '../support/system-tree';

// OVERLAY for real, on loop devices: writes land on the scratch, never on
// the root; every boot starts again from what the root holds; on the tmpfs
// fallback too; status names each overlay place and its state.

const t = suite('places/overlay (root, loop devices)');
let r: Router;
t.before.each(() => {
  r = new Router('overlay', 80, [4, 64]);
});
t.after.each(() => r.close());

function tree(conf: string) {
  buildTree(r.tree, { conf });
  mkdirSync(join(r.tree, 'etc/ppp/peers'), { recursive: true });
  writeFileSync(join(r.tree, 'etc/ppp/options'), 'from the image\n');
}

// The root as it is under every mount: a second, non-recursive bind of it.
const underneath = (path: string) => `o=$(mktemp -d); mount --bind ${r.tree} $o; ls -A $o${path}; umount $o`;

t('writes land in the upper layer on the scratch, never on the root; the next boot starts from the root again', () => {
  tree(`RW_DEVICE=PARTUUID=${r.disk.partuuid(2)}\nRW_LABEL=\nVOLATILE=/tmp\nOVERLAY=/etc/ppp\n`);
  const first = r.boot({
    after: `inside 'echo mine > /etc/ppp/options; touch /etc/ppp/peers/isp; rm /etc/ppp/peers/../options.bak 2>/dev/null; echo ok'
echo "=== seen"; inside 'cat /etc/ppp/options; ls /etc/ppp/peers'
echo "=== root"; ${underneath('/etc/ppp/peers')}; cat ${r.tree}/etc/ppp/options >/dev/null
echo "=== upper"; ls -A ${r.tree}${RW}/.roroot/overlay/etc/ppp/upper/peers
echo "=== status"; node ${BUNDLE} status --root ${r.tree} --json`,
  });
  assert.is(first.s.rc.trim(), '0', first.stdout + first.stderr);
  assert.equal(lines(first.s.seen), ['mine', 'isp']);
  assert.equal(lines(first.s.root), [], 'the root underneath is untouched');
  assert.equal(lines(first.s.upper), ['isp']);
  const m = mountsOf(first.s).find((x) => x[0] === '/etc/ppp');
  assert.is(m?.[1], 'overlay');
  const place = JSON.parse(first.s.status).places.find((p: { kind: string }) => p.kind === 'overlay');
  assert.equal([place.path, place.state, place.ok], ['/etc/ppp', 'in place', true]);
  const second = r.boot({ after: `echo "=== seen"; inside 'cat /etc/ppp/options; ls /etc/ppp/peers'` });
  assert.equal(lines(second.s.seen), ['from the image'], 'a new boot, the root content again');
});

t('on the tmpfs fallback scratch too', () => {
  tree('RW_DEVICE=\nRW_LABEL=\nVOLATILE=/tmp\nOVERLAY=/etc/ppp\n');
  const b = r.boot({ after: `inside 'echo mine > /etc/ppp/options'; echo "=== seen"; inside 'cat /etc/ppp/options'; echo "=== root"; o=$(mktemp -d); mount --bind ${r.tree} $o; cat $o/etc/ppp/options; umount $o` });
  assert.is(b.s.rc.trim(), '0');
  assert.equal(mountsOf(b.s).find((x) => x[0] === RW)?.[1], 'tmpfs');
  assert.equal(lines(b.s.seen), ['mine']);
  assert.equal(lines(b.s.root), ['from the image']);
});

t('boot run twice: the overlay is left as it is, with what was written', () => {
  tree(`RW_DEVICE=PARTUUID=${r.disk.partuuid(2)}\nRW_LABEL=\nVOLATILE=/tmp\nOVERLAY=/etc/ppp\n`);
  const b = r.boot({ after: `inside 'echo mine > /etc/ppp/options'; echo "=== again"; node ${BUNDLE} boot --root ${r.tree} --cmdline ro --kmsg none --no-background; echo "=== seen"; inside 'cat /etc/ppp/options'` });
  assert.match(b.s.again, /overlay: mount -n -t overlay .*: already done/);
  assert.equal(lines(b.s.seen), ['mine']);
});

t.run();
