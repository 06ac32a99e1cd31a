import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { currentHostname, nameFromAddress, nameInHosts, wantsNameFromAddress } from '../../init/plan/hostname';

const t = suite('plan/hostname');

t('what counts as no name', () => {
  for (const k of ['', '(none)', 'localhost', 'localhost.localdomain']) assert.ok(wantsNameFromAddress(k, null), k);
  assert.not.ok(wantsNameFromAddress('r1', null));
  assert.not.ok(wantsNameFromAddress('(none)', 'r2'));
  assert.ok(wantsNameFromAddress('(none)', 'localhost'));
  assert.is(currentHostname('(none)', 'r2'), 'r2');
});

t('/etc/hosts: first name of the matching line, comments ignored', () => {
  const hosts = '# 10.0.0.1 commented\n10.0.0.1\trouter-a router-a.lan\n10.0.0.2 b\n';
  assert.is(nameInHosts(hosts, '10.0.0.1'), 'router-a');
  assert.is(nameInHosts(hosts, '10.0.0.3'), null);
});

t('a name derived from the address', () => {
  assert.is(nameFromAddress('192.168.7.42'), 'ip-192-168-7-42');
});

t.run();
