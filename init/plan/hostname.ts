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
