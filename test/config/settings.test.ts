import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULTS, mergeSettings } from '../../init/config/settings';
import { parseShellVars } from '../../init/config/shell-vars';

const t = suite('config/settings');
const fedoraText = readFileSync(join(__dirname, '../../../test/fixtures/fedora-readonly-root'), 'utf8');
const src = (file: string, text: string) => ({ file, vars: parseShellVars(file, text) });

t("Fedora's stock /etc/sysconfig/readonly-root is read unchanged", () => {
  const { settings, diagnostics } = mergeSettings([src('/etc/sysconfig/readonly-root', fedoraText)]);
  assert.equal(diagnostics, []);
  assert.is(settings.readonly, false);
  assert.is(settings.temporaryState, false);
  assert.is(settings.rwMount, '/var/lib/stateless/writable');
  assert.is(settings.rwLabel, 'stateless-rw');
  assert.equal(settings.rwOptions, []);
  assert.is(settings.stateMount, '/var/lib/stateless/state');
  assert.is(settings.clientState, null, 'CLIENTSTATE= is unset');
  assert.is(settings.slaveMounts, true);
});

t('roroot.conf wins key by key', () => {
  const { settings } = mergeSettings([
    src('/etc/sysconfig/readonly-root', fedoraText),
    src('/etc/roroot.conf', 'READONLY=yes\nRW_DEVICE=PARTUUID=1234abcd-02\nVOLATILE="/tmp /var/log"\nREMOTE=10.0.2.100:/export/\n'),
  ]);
  assert.is(settings.readonly, true);
  assert.is(settings.rwLabel, 'stateless-rw', 'untouched keys keep the Fedora value');
  assert.is(settings.rwDevice, 'PARTUUID=1234abcd-02');
  assert.equal(settings.volatile, ['/tmp', '/var/log']);
  assert.is(settings.remote, '10.0.2.100:/export');
});

t('defaults when nothing is configured', () => {
  const { settings } = mergeSettings([]);
  assert.equal(settings, DEFAULTS);
  assert.is(settings.rwMount, '/var/lib/roroot/volatile');
  assert.is(settings.rwMaster, '/var/lib/roroot/volatile.ini');
  assert.is(settings.rwFstype, 'ext4');
});

t('bad values are reported with file:line and the default is kept', () => {
  const { settings, diagnostics } = mergeSettings([
    src('/etc/roroot.conf', 'READONLY=maybe\nRW_MOUNT=var/x\nRW_FSTYPE=xfs\nRW_DEVICE=sda2\nREMOTE=nohost\nVOLATILE="/tmp ../x"\nNFS_TIMEOUT=0\nBOGUS=1\n'),
  ]);
  assert.equal(
    diagnostics.map((d) => `${d.line}: ${d.message}`),
    [
      '1: READONLY: expected yes or no, got "maybe"',
      '2: RW_MOUNT: path "var/x" must be absolute',
      '3: RW_FSTYPE: expected ext2, ext3 or ext4, got "xfs"',
      '4: RW_DEVICE: expected /dev/..., LABEL=, UUID=, PARTUUID= or PARTLABEL=, got "sda2"',
      '5: REMOTE: expected server:/path, got "nohost"',
      '6: VOLATILE: path "../x" must be absolute',
      '7: NFS_TIMEOUT: expected whole seconds between 1 and 600, got "0"',
    ].concat(diagnostics.slice(7).map((d) => `${d.line}: ${d.message}`)),
  );
  assert.match(diagnostics[7].message, /^unknown key BOGUS \(known: READONLY, TEMPORARY_STATE, RW_MOUNT/);
  assert.is(diagnostics.length, 8);
  assert.is(settings.readonly, DEFAULTS.readonly);
  assert.is(settings.rwMount, DEFAULTS.rwMount);
  assert.is(settings.rwDevice, null);
});

t("BOARD: every shipped profile's name is a board name (qemu-x86_64 has an underscore)", () => {
  for (const name of ['qemu-x86_64', 'qemu-ab', 'pc-router']) {
    const { settings, diagnostics } = mergeSettings([src('/etc/roroot.conf', `BOARD=${name}\n`)]);
    assert.equal([settings.board, diagnostics], [name, []]);
  }
  assert.equal(mergeSettings([src('/etc/roroot.conf', 'BOARD=../x\n')]).diagnostics.map((d) => d.message), ['BOARD: expected a board name, got "../x"']);
});

t.run();
