import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { rwtabKind } from '../../init/places/rwtab';
import { placesOf, checkAll } from '../../init/places/place';
import { config, dir, facts, link, mount } from '../plan/fixtures';

const t = suite('places/rwtab');
const RW = '/var/lib/roroot/volatile';

t('plan and check come from one decision: a VOLATILE /var/tmp that rwtab also names is in place, not "not mounted"', () => {
  const c = config({ '/etc/roroot.conf': 'VOLATILE=/var/tmp', '/etc/rwtab': 'empty /var/tmp\ndirs /var/cache/man\nfiles /nope\n' });
  const booted = facts({
    mounts: [...facts().mounts, mount(RW, '254:2', 'ext4'), mount('/var/cache/man', '254:2', 'ext4')],
    paths: { ...facts().paths, '/var/tmp': link(`${RW}/var/tmp`, `${RW}/var/tmp`), '/var/cache/man': dir('/var/cache/man') },
  });
  const places = placesOf(c).filter((p) => p.kind === 'rwtab');
  const plan = rwtabKind.plan(places as never, { config: c, facts: booted });
  assert.ok(plan.notes.includes('rwtab: /var/tmp is already on the scratch space (/etc/rwtab:1)'));
  const checks = checkAll(placesOf(c), { config: c, facts: booted });
  assert.equal(
    checks.map((p) => `${p.path}: ${p.how}: ${p.ok ? 'ok' : 'BAD'} ${p.state}`),
    ['/var/tmp: volatile symlink: ok in place', '/var/tmp: rwtab empty: ok skipped', '/var/cache/man: rwtab dirs: ok in place', '/nope: rwtab files: ok skipped'],
  );
  const unbound = checkAll(placesOf(c), { config: c, facts: { ...booted, mounts: booted.mounts.filter((m) => m.target !== '/var/cache/man') } });
  assert.equal(unbound.filter((p) => !p.ok).map((p) => `${p.path}: ${p.detail}`), ['/var/cache/man: not mounted']);
});

t.run();
