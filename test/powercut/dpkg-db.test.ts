import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { BadDatabase, contentPath, installed, parseDiversions, parseMd5sums, parseStatus } from './dpkg-db';

const t = suite('dpkg database');

const status = `Package: demo
Status: install ok installed
Architecture: all
Conffiles:
 /etc/demo.conf 0123456789abcdef0123456789abcdef
 /etc/old.conf fedcba9876543210fedcba9876543210 obsolete
Description: demo

Package: libc6
Status: install ok installed
Multi-Arch: same
Architecture: amd64
`;

t('stanzas by the name info/ files use; an update file replaces a stanza; conffiles with their hashes', () => {
  const s = parseStatus([status, 'Package: demo\nStatus: install reinstreq half-installed\nArchitecture: all\n']);
  assert.equal([...s.keys()], ['demo', 'libc6:amd64']);
  assert.is(s.get('demo')?.status, 'install reinstreq half-installed');
  assert.not.ok(installed(s.get('demo') as never));
  assert.equal(parseStatus([status]).get('demo')?.conffiles, [{ path: '/etc/demo.conf', hash: '0123456789abcdef0123456789abcdef' }, { path: '/etc/old.conf', hash: 'fedcba9876543210fedcba9876543210' }]);
  assert.throws(() => parseStatus(['Status: garbage\n']), (e: Error) => e instanceof BadDatabase);
});

t('md5sums and diversions; a diverted file is checked at its new name except by its diverter', () => {
  assert.equal(parseMd5sums('0123456789abcdef0123456789abcdef  usr/bin/x\nnot a line\n'), [{ hash: '0123456789abcdef0123456789abcdef', path: '/usr/bin/x' }]);
  const d = parseDiversions('/bin/sh\n/bin/sh.distrib\ndash\n');
  assert.equal(d, [{ from: '/bin/sh', to: '/bin/sh.distrib', by: 'dash' }]);
  assert.is(contentPath('/bin/sh', 'bash', d), '/bin/sh.distrib');
  assert.is(contentPath('/bin/sh', 'dash:amd64', d), '/bin/sh');
  assert.is(contentPath('/bin/ls', 'coreutils', d), '/bin/ls');
});

t.run();
