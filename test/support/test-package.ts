import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

// A package as an admin would install: a file under /usr, a directory it
// ships under /var/log (volatile), and one its postinst makes under
// /var/spool (a volatile glob, /var/spool/*). `payloadKiB` of incompressible
// data under /usr makes the install write that much to the root.
export function testPackage(work: string, name: string, out: string, payloadKiB = 0) {
  const root = join(work, name);
  mkdirSync(join(root, 'DEBIAN'), { recursive: true });
  mkdirSync(join(root, `usr/share/${name}`), { recursive: true });
  mkdirSync(join(root, `var/log/${name}`), { recursive: true });
  writeFileSync(join(root, `usr/share/${name}/hello`), 'hello from a package\n');
  if (payloadKiB > 0) writeFileSync(join(root, `usr/share/${name}/payload`), randomBytes(payloadKiB * 1024));
  writeFileSync(join(root, 'DEBIAN/control'), `Package: ${name}\nVersion: 1.0\nArchitecture: all\nMaintainer: roroot tests <tests@roroot.invalid>\nDescription: test package for roroot\n`);
  writeFileSync(join(root, 'DEBIAN/postinst'), `#!/bin/sh\nset -e\nmkdir -p /var/spool/${name}\n`);
  chmodSync(join(root, 'DEBIAN/postinst'), 0o755);
  execFileSync('dpkg-deb', ['--root-owner-group', '-Zgzip', '--build', root, out], { stdio: 'ignore' });
}
