import type { Config } from '../config/config';
import { CONFIG_FILES } from '../config/config';
import { mountOptionsOf } from '../config/fstab';
import { RECORD_DIR } from '../config/own-paths';
import { mountArgv, TIMEOUT_SEC } from './argv';
import { deviceName, oneDevice } from './devices';
import { hostOf, isMounted, mountPointToMake, type Facts } from './facts';
import { checkHostname } from './hostname';
import { nfsOptions, storeOptions } from './mount-options';
import type { Plan, Step, StepOf } from './steps';
import { fstabEntryFor } from './wanted';

// Seed 000: persistent state from fstab, then the STATE_LABEL partition,
// then NFS $CLIENTSTATE/$HOSTNAME; each one the fallback of the one before.
export function planState(config: Config, facts: Facts, plan: Plan, hostname: string) {
  const s = config.settings;
  if (isMounted(facts, s.stateMount)) {
    plan.notes.push(`state: ${s.stateMount} is already mounted`);
    return;
  }
  const chain: Step[] = [];
  const target = hostOf(facts, s.stateMount);
  const mkdir = mountPointToMake(facts, s.stateMount);
  const device = (id: string, path: string, fstype: string | null, options: string[], why: string): Step => ({
    id,
    phase: 'state',
    kind: 'mount',
    target: s.stateMount,
    mkdir,
    argv: mountArgv({ fstype, options: storeOptions(options), source: hostOf(facts, path), target }),
    timeoutSec: TIMEOUT_SEC.mount,
    fatal: false,
    why,
  });
  const fstab = fstabEntryFor(config, s.stateMount);
  const where = fstab ? `${CONFIG_FILES.fstab}:${fstab.line}` : '';
  if (fstab && fstab.vfstype.startsWith('nfs')) {
    chain.push(nfsStep(config, facts, 'state.fstab', 'state', fstab.spec, s.stateMount, [...mountOptionsOf(fstab), ...s.stateOptions], where));
  } else if (fstab) {
    const found = oneDevice(facts, fstab.spec);
    if ('device' in found) chain.push(device('state.fstab', found.device.path, fstab.vfstype === 'auto' ? null : fstab.vfstype, [...mountOptionsOf(fstab), ...s.stateOptions], `${where}: ${deviceName(found.device)}`));
    else plan.warnings.push(`state: ${where}: ${fstab.spec}: ${found.error}`);
  }
  if (s.stateLabel) {
    const found = oneDevice(facts, `LABEL=${s.stateLabel}`);
    if ('device' in found) chain.push(device('state.label', found.device.path, null, s.stateOptions, `STATE_LABEL=${s.stateLabel}: ${deviceName(found.device)}`));
    else if (matchCount(found.error)) plan.warnings.push(`state: STATE_LABEL=${s.stateLabel}: ${found.error}`);
  }
  if (s.clientState) {
    const bad = checkHostname(hostname);
    if (bad) plan.warnings.push(`state: CLIENTSTATE=${s.clientState}: the host name ${bad}: no state directory is named after it`);
    else chain.push(clientState(config, facts, hostname));
  }
  if (chain.length === 0) {
    plan.notes.push('state: no persistent state (no fstab entry for STATE_MOUNT, no STATE_LABEL partition, no CLIENTSTATE)');
    return;
  }
  for (let i = chain.length - 1; i > 0; i--) chain[i - 1].fallback = [chain[i]];
  plan.steps.push(chain[0]);
}

// "found on 2 devices": two sticks (or a stick and the disk) with our label.
function matchCount(error: string): boolean {
  return error.startsWith('found on');
}

function nfsStep(config: Config, facts: Facts, id: string, phase: 'state' | 'remote', source: string, target: string, options: string[], why: string): StepOf<'nfs'> {
  const host = hostOf(facts, target);
  return {
    id,
    phase,
    kind: 'nfs',
    target,
    mkdir: mountPointToMake(facts, target),
    argv: mountArgv({ fstype: 'nfs', options: nfsOptions(options), source, target: host }),
    timeoutSec: config.settings.nfsTimeoutSec,
    retry: true,
    fatal: false,
    why,
  };
}

// $CLIENTSTATE/$HOSTNAME. A new router of a fleet finds no directory of its
// own on the server: the seed's rc.sysinit then simply had no state, and
// every router needed an admin to mkdir it first. Here, when the server
// says "No such file or directory", the parent export is mounted for a
// moment on the scratch, the router's own directory is made there (mkdir is
// atomic on the server: two boots racing for one name share it) with the
// fleet's files template, and the mount is tried again.
function clientState(config: Config, facts: Facts, hostname: string): Step {
  const s = config.settings;
  const parent = s.clientState as string;
  const via = `${s.rwMount}/${RECORD_DIR}/enrol`;
  const viaHost = hostOf(facts, via);
  const first = nfsStep(config, facts, 'state.nfs', 'state', `${parent}/${hostname}`, s.stateMount, s.stateOptions, `CLIENTSTATE=${parent}, hostname ${hostname}; created on the server if missing`);
  return {
    ...first,
    fallbackWhen: 'No such file or directory',
    fallback: [
      { ...nfsStep(config, facts, 'state.enrol.mount', 'state', parent, via, s.stateOptions, `${parent}/${hostname} does not exist: enrol`), mkdir: viaHost, retry: false },
      { id: 'state.enrol', phase: 'state', kind: 'enrol', name: hostname, dir: `${viaHost}/${hostname}`, template: `${viaHost}/files`, server: parent, fatal: false, needs: 'state.enrol.mount', why: `a new router: its own directory on ${parent}` },
      { id: 'state.enrol.umount', phase: 'state', kind: 'umount', target: via, argv: ['umount', '-n', viaHost], timeoutSec: TIMEOUT_SEC.umount, fatal: false, needs: 'state.enrol.mount', why: 'the parent export only for the enrolment' },
      { ...first, id: 'state.nfs.enrolled', needs: 'state.enrol', why: `${first.why}: enrolled` },
    ],
  };
}

// Seed 004: persistent directories are symlinks into an NFS export mounted
// at REMOTE_MOUNT.
export function planRemote(config: Config, facts: Facts, plan: Plan) {
  const s = config.settings;
  if (!s.remote) return;
  plan.steps.push(nfsStep(config, facts, 'remote.nfs', 'remote', s.remote, s.remoteMount, s.remoteOptions, `REMOTE=${s.remote}`));
}
