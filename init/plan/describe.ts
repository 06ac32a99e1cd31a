import type { Step } from './steps';

// A step as the command an admin would type to do it by hand. Logs and
// errors are written in these terms (`mount -t ext4 /dev/vda2 /x: EBUSY`),
// the way OpenWrt's fstools reports, so a failure can be retried verbatim.

export function describe(step: Step): string {
  switch (step.kind) {
    case 'mount':
      return `mount -n${step.fstype ? ` -t ${step.fstype}` : ''}${opts(step.options)} ${step.source} ${step.target}`;
    case 'mkfs':
      return [
        `mkfs.${step.fstype}`,
        step.label ? `-L ${step.label}` : '',
        step.uuid ? `-U ${step.uuid}` : '',
        step.populate ? `-d ${step.populate}` : '',
        step.device,
      ]
        .filter(Boolean)
        .join(' ');
    case 'fill':
      return `cp -a ${step.from}/. ${step.to}`;
    case 'bind':
      return `${step.replicate ? `${step.replicate} ${step.target}; ` : ''}mount -n --bind${opts(step.options)} ${step.source} ${step.target}`;
    case 'symlink':
      return `ln -s ${step.target} ${step.path}`;
    case 'nfs':
      return `mount -n -t nfs${opts(step.options)} ${step.source} ${step.target}`;
    case 'hostname':
      return `hostname ${step.name}`;
    case 'depmod':
      return `depmod ${step.release} (into ${step.work}, then renamed into ${step.dir} with / read-write)`;
  }
}

function opts(options: string[]): string {
  return options.length > 0 ? ` -o ${options.join(',')}` : '';
}
