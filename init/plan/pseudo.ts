import type { Config } from '../config/config';
import { mountArgv, TIMEOUT_SEC } from './argv';
import { hostOf, isMounted, type Facts } from './facts';
import type { Plan } from './steps';

// The kernel filesystems, as a table of data (systemd's mount-setup.c keeps
// its list the same way). Mounted only when not mounted yet: under an
// initramfs they have been moved over already.
const PSEUDO: { target: string; fstype: string; options: string[]; devtmpfs?: true }[] = [
  { target: '/proc', fstype: 'proc', options: ['nosuid', 'nodev', 'noexec'] },
  { target: '/sys', fstype: 'sysfs', options: ['nosuid', 'nodev', 'noexec'] },
  { target: '/dev', fstype: 'devtmpfs', options: ['nosuid', 'mode=0755'], devtmpfs: true },
  { target: '/dev/pts', fstype: 'devpts', options: ['nosuid', 'noexec', 'gid=5', 'mode=0620', 'ptmxmode=000'] },
];

export function planPseudo(config: Config, facts: Facts, plan: Plan) {
  for (const p of PSEUDO) {
    if (p.devtmpfs && !config.settings.devtmpfs) {
      plan.notes.push(`${p.target}: static device nodes on the root (DEVTMPFS=no)`);
      continue;
    }
    if (isMounted(facts, p.target)) continue;
    plan.steps.push({
      id: `pseudo${p.target.replace(/\//g, '.')}`,
      phase: 'pseudo',
      kind: 'mount',
      target: p.target,
      mkdir: null,
      argv: mountArgv({ fstype: p.fstype, options: p.options, source: p.fstype, target: hostOf(facts, p.target) }),
      timeoutSec: TIMEOUT_SEC.mount,
      fatal: false,
      why: 'not mounted yet',
    });
  }
}
