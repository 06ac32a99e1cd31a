import { commandLine } from './argv';
import type { Step } from './steps';

// A step as the command an admin would type to do it by hand: for a step
// that runs a command, its argv; for one done inside roroot (a symlink, a
// copy), the command that does the same. Logs and errors are written in
// these terms (`mount -n -t ext4 /dev/vda2 /x: EBUSY`), the way OpenWrt's
// fstools reports, so a failure can be retried verbatim.

export function describe(step: Step): string {
  switch (step.kind) {
    case 'mount':
    case 'remount':
    case 'mkfs':
    case 'fill':
    case 'nfs':
    case 'umount':
    case 'bind-batch':
      return commandLine(step.argv);
    case 'bind':
      return `${step.replicate ? `${step.replicate} ${step.rel}; ` : ''}${commandLine(step.argv)}`;
    case 'symlink':
      return commandLine(['ln', '-s', step.target, step.link]);
    case 'mkdir':
      return commandLine(['mkdir', '-p', ...step.rels.map((r) => step.base + r)]);
    case 'enrol':
      return `${commandLine(['mkdir', step.dir])}; ${commandLine(['cp', '-n', step.template, `${step.dir}/files`])}`;
    case 'hostname':
      return commandLine(['hostname', step.name]);
    case 'identity':
      // Several keys are made side by side (perform-identity.ts), as a shell's & and wait.
      if (step.argv.length > 1) return `${step.argv.map(commandLine).join(' & ')} & wait`;
      return step.argv.length > 0 ? commandLine(step.argv[0]) : `${step.item} > ${step.copy} (if missing)`;
    case 'depmod':
      return `depmod ${step.release} (into ${step.work}, then renamed into ${step.dir} with / read-write)`;
  }
}
