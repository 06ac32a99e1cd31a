import type { Config } from '../config/config';
import { CONFIG_FILES } from '../config/config';
import { quoted } from '../config/diagnostic';
import type { Facts } from './facts';
import type { Plan } from './steps';

// The seed's rule (rc.sysinit): a machine still called localhost takes its
// name from its IP address, "even if we have local storage", because a
// stateless client's persistent state lives at $CLIENTSTATE/$HOSTNAME.
// Fedora asks `ipcalc -h` (reverse DNS) and keeps "localhost" when that
// fails; every unnamed router of a fleet would then share one state
// directory, so when no name resolves we derive one from the address.

const UNNAMED = ['', '(none)', 'localhost', 'localhost.localdomain'];

export function currentHostname(kernel: string, etc: string | null): string {
  if (!UNNAMED.includes(kernel)) return kernel;
  return etc && etc !== '' ? etc : 'localhost';
}

export function wantsNameFromAddress(kernel: string, etc: string | null): boolean {
  return UNNAMED.includes(currentHostname(kernel, etc));
}

// /etc/hosts first, as getnameinfo would: `address name [aliases...]`.
export function nameInHosts(hostsText: string, address: string): string | null {
  for (const raw of hostsText.split('\n')) {
    const [addr, name] = raw.replace(/#.*/, '').trim().split(/[ \t]+/);
    if (addr === address && name) return name;
  }
  return null;
}

export function nameFromAddress(address: string): string {
  return 'ip-' + address.replace(/[.:]/g, '-');
}

// A host name becomes the kernel's name and a directory on the state
// server ($CLIENTSTATE/$HOSTNAME), and it may come from DHCP or reverse
// DNS, which anyone on the network can answer: only RFC 1123 names, labels
// of letters, digits and inner hyphens, are taken (`../../etc` is not one).
export function checkHostname(name: string): string | null {
  if (name.length === 0 || name.length > 253) return `${quoted(name)} is not a host name (1 to 253 characters)`;
  const bad = name.split('.').find((l) => !/^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(l));
  return bad === undefined ? null : `${quoted(name)} is not a host name (RFC 1123: letters, digits and inner hyphens in labels of 1 to 63)`;
}

// The name the router goes by from here on, and the step that sets it.
export function planHostname(config: Config, facts: Facts, plan: Plan): string {
  const current = currentHostname(facts.kernelHostname, facts.etcHostname);
  const address = facts.addresses[0];
  const set = (name: string, why: string) => {
    if (name !== facts.kernelHostname) plan.steps.push({ id: 'hostname', phase: 'hostname', kind: 'hostname', name, file: `${facts.root === '/' ? '' : facts.root}/proc/sys/kernel/hostname`, fatal: false, why });
    return name;
  };
  const currentBad = UNNAMED.includes(current) ? null : checkHostname(current);
  if (currentBad) plan.warnings.push(`hostname: ${currentBad}: named from the address instead`);
  if (!currentBad && !UNNAMED.includes(current)) return set(current, `from ${CONFIG_FILES.hostname}`);
  const unnamed = currentBad ? 'localhost' : current;
  if (!address) {
    plan.notes.push(`hostname: "${unnamed}" and no global IPv4 address to name it from`);
    return 'localhost';
  }
  const candidates: [string | null, string][] = [
    [nameInHosts(config.etcHosts, address), `is %s in /etc/hosts`],
    [facts.reverseName, 'resolves to %s'],
  ];
  for (const [name, how] of candidates) {
    if (!name) continue;
    const bad = checkHostname(name);
    if (bad) {
      plan.warnings.push(`hostname: ${address} ${how.replace('%s', 'a name that')} ${bad.replace(/^"[^"]*" /, '')}: refused`);
      continue;
    }
    return set(name, `"${unnamed}" is no name; ${address} ${how.replace('%s', name)}`);
  }
  return set(nameFromAddress(address), `"${unnamed}" is no name; ${address} does not resolve, name derived from it`);
}
