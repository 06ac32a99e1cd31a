import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { PhaseTracker } from './phases';

const t = suite('phase markers');

t('markers set the scenario; a roroot window is rw-window until it closes; split chunks and CRs are fine', () => {
  const changes: string[] = [];
  const p = new PhaseTracker('boot', (ph) => changes.push(ph));
  p.feed('[   24.1] roroot: rw-window: modules.dep: ope');
  assert.is(p.phase, 'boot');
  p.feed('ning\r\n');
  assert.is(p.phase, 'rw-window');
  p.feed('roroot: rw-window: modules.dep (586 ms, 25 writes, 652 KiB to /dev/vda1)\r\nroroot-phase: idle\r\n');
  p.feed('echo roroot-phase: log-storm; sleep 1\r\n'); // typed, echoed: not a marker
  assert.is(p.phase, 'idle');
  p.feed('roroot-phase: maintenance\nroroot: rw-window: rw: dpkg -i /x.deb: opening\n');
  assert.is(p.phase, 'rw-window');
  p.feed('roroot: rw-window: rw: dpkg -i /x.deb (1200 ms, 115 writes, 3000 KiB to /dev/vda1)\n');
  assert.is(p.phase, 'maintenance');
  assert.equal(changes, ['rw-window', 'boot', 'idle', 'maintenance', 'rw-window', 'maintenance']);
});

t('a window that could not close stays a window', () => {
  const p = new PhaseTracker('maintenance', () => {});
  p.feed('roroot: rw-window: rw: x: opening\nroroot: rw-window: rw: x: mount -n -o remount,ro /: busy; / IS STILL WRITABLE (open for writing: pid 1)\n');
  assert.is(p.phase, 'rw-window');
});

t.run();
