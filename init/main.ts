import { kernelRelease } from './sys/kernel-release';
import { boot, planRound } from './boot';
import { DEFAULT_VOLATILE } from './install/conversion';
import { install, uninstall } from './install/install';
import { flash } from './flash/flash';
import { loadBoard } from './flash/load-board';
import { parseFlags, rootFlag, type FlagSpec, type Parsed } from './cli/args';
import { SNAPSHOT_BLOB, SNAPSHOT_ENTRY } from './config/own-paths';
import * as persist from './persist/persist';
import { commit } from './upgrade/trial';
import { cancel, retry, status as upgradeStatus, upgrade, UpgradeError } from './upgrade/upgrade';
import { readConfig } from './sys/read-config';
import { Logger } from './sys/log';
import { buildSnapshot } from './snapshot-build';
import { mountPersistent } from './persistent';
import { renderPlan } from './plan/render';
import { maintenance } from './rw/maintenance';
import { collectStatus, renderStatus } from './status';
import { hostPath } from './sys/root-path';
import { CommandError } from './sys/spawn';
import { printLine as print } from './sys/stdout-line';
import { UnsafeCopyError } from './sys/tree-copy';
import { VERSION } from './version';

// The `roroot` command. Each subcommand: its flags, its help, its action.

interface Command {
  summary: string;
  usage: string;
  help: string;
  flags: FlagSpec;
  run: (p: Parsed) => Promise<number>;
}

const COMMON = `  --root DIR      act on the system whose root is DIR (default /)
  --help          this text`;
const CMDLINE = `  --cmdline TEXT  use TEXT as the kernel command line instead of /proc/cmdline`;
const RELEASE = `  --kernel-release R  check /lib/modules/R/modules.dep (default: uname -r)`;

// The boot command's flags; the snapshot's warm-up parses a command line with them.
export const BOOT_FLAGS: FlagSpec = { string: ['root', 'cmdline', 'kmsg', 'kernel-release'], boolean: ['dry-run'], on: ['background'], positional: false };

const COMMANDS: Record<string, Command> = {
  boot: {
    summary: 'the boot stage: make the writable places of a read-only root',
    usage: 'roroot boot [--root DIR] [--cmdline TEXT] [--kmsg PATH|none] [--no-background]',
    help: `Mounts the kernel filesystems, re-makes the scratch space (mkfs + fill from
the master copy, or tmpfs), sets up the volatile symlinks and rwtab binds,
names the host from its address, mounts persistent state and REMOTE. Every
step is logged with its time to the console and the kernel log.
Exit 0 when the system came up, even degraded; 1 when nothing usable could
be made. /sbin/roroot-init runs this, then always execs the real init.

${COMMON}
${CMDLINE}
${RELEASE}
  --kmsg PATH     write kernel log lines to PATH (default DIR/dev/kmsg; none: off)
  --no-background do not start the background NFS retry
  --dry-run       print the plan instead (same as roroot plan)`,
    flags: BOOT_FLAGS,
    run: async (p) => {
      const root = rootFlag(p.flags);
      const cmdline = (p.flags.cmdline as string | undefined) ?? null;
      if (p.flags['dry-run']) return showPlan(root, cmdline, releaseFlag(p), false);
      const { ok } = await boot({ root, cmdline, release: releaseFlag(p), kmsg: kmsgFlag(p, root), background: p.flags.background !== false, console: print });
      return ok ? 0 : 1;
    },
  },
  plan: {
    summary: 'print what boot would do, changing nothing',
    usage: 'roroot plan [--root DIR] [--cmdline TEXT] [--json]',
    help: `Prints the exact ordered steps boot would run on this system now, why
each one was chosen, and what runs instead when one fails.

${COMMON}
${CMDLINE}
${RELEASE}
  --json          the plan as JSON`,
    flags: { string: ['root', 'cmdline', 'kernel-release'], boolean: ['json'], positional: false },
    run: (p) => showPlan(rootFlag(p.flags), (p.flags.cmdline as string | undefined) ?? null, releaseFlag(p), !!p.flags.json),
  },
  status: {
    summary: 'degraded or not and why, what is mounted, which places are writable, the last boot',
    usage: 'roroot status [--root DIR] [--json]',
    help: `Says DEGRADED and every reason first when the router is not as configured
(a fallback taken, a device or a store entry refused, a step failed, NFS
still retried, / read-write, a scratch 90% full). Then the root's mount
state, the scratch, state and remote stores with their free space, every
writable place as its kind checks it, and the last boot's steps with
their durations. Exit 1 when degraded.

${COMMON}
  --json          as JSON (top-level "degraded" and "reasons")`,
    flags: { string: ['root'], boolean: ['json'], positional: false },
    run: async (p) => {
      const st = collectStatus(rootFlag(p.flags));
      print(p.flags.json ? JSON.stringify(st, null, 1) : renderStatus(st));
      return st.degraded ? 1 : 0;
    },
  },
  install: {
    summary: 'convert this system to a read-only root (the package runs it)',
    usage: 'roroot install [--root DIR] [--volatile "PATH ..."]',
    help: `Moves every volatile directory into the master copy
(/var/lib/roroot/volatile.ini) and puts a symlink into the scratch mount in
its place; makes /etc/mtab a link to /proc/mounts; marks / "ro" in
/etc/fstab; adds init=/sbin/roroot-init to extlinux.conf and
/etc/default/grub. Records every change so that uninstall undoes exactly
that. Running it again changes nothing.

Refuses, changing nothing, a system that would not boot read-only: roroot
off in the config (READONLY=no), no line for / in /etc/fstab, no bootloader
it can give init= (extlinux.conf, or GRUB with update-grub, which it runs).
BOOTLOADER=flash in roroot.conf: roroot flash writes fstab and extlinux.conf.

${COMMON}
  --volatile LIST the volatile paths (default: VOLATILE from the config, else
                  ${DEFAULT_VOLATILE.join(' ')})
  --readonly      set READONLY=yes in /etc/roroot.conf (Fedora's file says no)`,
    flags: { string: ['root', 'volatile'], boolean: ['readonly'], positional: false },
    run: async (p) =>
      install({ root: rootFlag(p.flags), volatile: typeof p.flags.volatile === 'string' ? p.flags.volatile.split(/\s+/).filter(Boolean) : null, readonly: !!p.flags.readonly, say: print }),
  },
  rw: {
    summary: 'run a command with the root read-write, for as short as it takes',
    usage: 'roroot rw [--root DIR] [--kmsg PATH|none] -- COMMAND [ARG...]',
    help: `Remounts / read-write, runs COMMAND (apt-get install -y PKG, dpkg -i
FILE.deb), syncs and remounts / read-only, and logs how long / was writable
and how many writes reached its disk. / goes back to read-only even when
COMMAND fails or roroot gets SIGINT, SIGTERM or SIGHUP (passed on to
COMMAND). One window at a time: a second roroot rw is refused. What a
package put under a volatile place is kept in the master copy, so that it
is there after the next boot. Exit: COMMAND's status; 1 when / could not be
made read-only again.

${COMMON}
  --kmsg PATH     write kernel log lines to PATH (default DIR/dev/kmsg; none: off)`,
    flags: { string: ['root', 'kmsg'], boolean: [], positional: true },
    run: async (p) => {
      if (p.operands.length === 0) {
        process.stderr.write('roroot rw: no command given (roroot rw -- COMMAND [ARG...])\n');
        return 2;
      }
      const root = rootFlag(p.flags);
      return maintenance({ root, command: p.operands, kmsg: kmsgFlag(p, root), console: print });
    },
  },
  uninstall: {
    summary: 'undo roroot install: every moved directory back, every file restored',
    usage: 'roroot uninstall [--root DIR]',
    help: `Puts every directory install moved back in its place with its content,
modes and owners, restores every file it edited and removes what it created.
A directory with a mount on it (a running system) is left until reboot.

${COMMON}`,
    flags: { string: ['root'], boolean: [], positional: false },
    run: async (p) => uninstall({ root: rootFlag(p.flags), say: print }),
  },
  flash: {
    summary: "write a board's layout and a root filesystem to a whole disk",
    usage: 'roroot flash --disk /dev/sdX --board NAME|FILE --rootfs DIR [--yes]',
    help: `Partitions DISK as the board says (MBR: root, scratch, optional swap and
state), fills the root partition from DIR in one pass (mkfs.ext4 -d),
writes /etc/fstab, the scratch's PARTUUID and extlinux.conf for this disk
into it, and installs extlinux in the MBR. Refuses a partition, a disk with
anything mounted from it, and the disk holding the running root. Shows the
plan and writes nothing without --yes.

  --disk DEV      the whole disk (/dev/sdb, /dev/loop3)
  --board B       a board name (board/B.conf) or a profile file
  --rootfs DIR    the prepared root filesystem (roroot package installed)
  --yes           really write
  --help          this text`,
    flags: { string: ['disk', 'board', 'rootfs'], boolean: ['yes'], positional: false },
    run: async (p) => {
      for (const f of ['disk', 'board', 'rootfs']) {
        if (typeof p.flags[f] !== 'string') {
          process.stderr.write(`roroot flash: --${f} is required\n`);
          return 2;
        }
      }
      const board = loadBoard(p.flags.board as string, print);
      if (!board) return 2;
      return flash({ disk: p.flags.disk as string, board, rootfs: p.flags.rootfs as string, yes: !!p.flags.yes, say: print });
    },
  },
  persist: {
    summary: 'what survives a reboot: list, add, remove, diff, revert, factory-reset',
    usage: 'roroot persist list|add PATH|remove PATH|diff [PATH]|revert PATH|factory-reset [--identity] [--json] [--root DIR]',
    help: `The persistent state's list of paths (its "files", Fedora's format), bound
from the state over the root, as far as the router's policy allows. The
router's identity (machine id, SSH host keys, random seed, DHCP leases) is
kept there too, apart from the list. Each change is made beside, synced and
renamed, and takes effect at once: no reboot, no read-write window.

  list            every persisted path and identity item, and its state
  add PATH        keep PATH: its content now copied to the state, bound at once
                  (a file that does not exist yet: only in an OVERLAY directory)
  remove PATH     stop keeping PATH: unbound, the root's own content again
  diff [PATH]     each persisted path against its factory content on the
                  read-only root: a unified diff, or added / removed / changed
  revert PATH     the factory content back into the state, bound at once
  factory-reset   revert every path; --identity also drops the identity
                  (a new one at the next boot)

${COMMON}
  --json          list and diff as JSON`,
    flags: { string: ['root'], boolean: ['json', 'identity'], positional: true },
    run: async (p) => {
      const [verb, path, ...extra] = p.operands;
      const root = rootFlag(p.flags);
      const needsPath = ['add', 'remove', 'revert'].includes(verb);
      if (!['list', 'add', 'remove', 'diff', 'revert', 'factory-reset'].includes(verb) || (needsPath && !path) || extra.length > 0 || (!needsPath && verb !== 'diff' && path)) {
        process.stderr.write(`roroot persist: usage: ${COMMANDS.persist.usage}\n`);
        return 2;
      }
      try {
        if (verb === 'list') {
          const places = persist.list(root, print);
          print(p.flags.json ? JSON.stringify(places, null, 1) : places.map((x) => `${x.ok ? 'ok ' : 'BAD'} ${x.path.padEnd(30)} ${x.how}: ${x.state === 'in place' ? '' : `${x.state}: `}${x.detail}`).join('\n') || 'persist: nothing is persisted');
        } else if (verb === 'add') await persist.add(root, path, print);
        else if (verb === 'remove') await persist.remove(root, path, print);
        else if (verb === 'revert') await persist.revert(root, path, print);
        else if (verb === 'factory-reset') await persist.factoryReset(root, !!p.flags.identity, print);
        else {
          const diffs = await persist.diff(root, path ?? null, print);
          print(p.flags.json ? JSON.stringify(diffs, null, 1) : diffs.map(renderDifference).join('\n'));
        }
        return 0;
      } catch (err) {
        if (!(err instanceof persist.PersistError)) throw err;
        process.stderr.write(`roroot persist: ${err.message}\n`);
        return 1;
      }
    },
  },
  upgrade: {
    summary: 'write a firmware update to the other root slot and try it (SLOTS=2 boards)',
    usage: 'roroot upgrade FILE|- [--allow-unsigned] | --status [--json] | --cancel | --retry | --commit  [--root DIR] [--cmdline TEXT]',
    help: `Writes the update FILE (or stdin) to the root slot that is not running:
its signature (UPGRADE_KEY) and board checked before a byte is written, the
image hashed as it is written and read back from the disk past the page
cache, then armed for UPGRADE_TRIES trial boots. The running slot stays the
default until the new one boots healthy and is committed; when its tries
are spent (a panic, a hang, a failed health check, or cuts), the old slot
boots again and status says why. Nothing of the running root is written.

  --status        both slots with their versions, which booted, which is the
                  default, the trial and the reason of the last fallback
  --json          with --status, as JSON
  --cancel        disarm the trial: the default boots next
  --retry         arm the trial again (its tries spent by cuts, say)
  --commit        the trial slot, once up: healthy means the boot stage not
                  degraded and UPGRADE_HEALTH passing; then the default
                  (roroot-commit.service runs it); unhealthy: a reboot
  --allow-unsigned  take an unsigned update, or one for another board

${COMMON}
${CMDLINE}`,
    flags: { string: ['root', 'cmdline', 'kmsg'], boolean: ['status', 'json', 'cancel', 'retry', 'commit', 'allow-unsigned'], positional: true },
    run: async (p) => {
      const verbs = ['status', 'cancel', 'retry', 'commit'].filter((v) => p.flags[v]);
      if (verbs.length > 1 || (verbs.length === 0) === (p.operands.length === 0) || p.operands.length > 1) {
        process.stderr.write(`roroot upgrade: usage: ${COMMANDS.upgrade.usage}\n`);
        return 2;
      }
      const root = rootFlag(p.flags);
      const cmdline = (p.flags.cmdline as string | undefined) ?? null;
      try {
        if (p.flags.status) {
          const st = await upgradeStatus(root, cmdline);
          print(p.flags.json ? JSON.stringify(st, null, 1) : renderUpgrade(st));
          return 0;
        }
        if (p.flags.cancel) return await cancel(root, cmdline, print);
        if (p.flags.retry) return await retry(root, cmdline, print);
        if (p.flags.commit) return await commit(root, readConfig(root, cmdline), new Logger(print, kmsgFlag(p, root)));
        return await upgrade({ root, cmdline, file: p.operands[0], allowUnsigned: !!p.flags['allow-unsigned'], say: print });
      } catch (err) {
        if (!(err instanceof UpgradeError)) throw err;
        process.stderr.write(`roroot upgrade: ${err.message}\n`);
        return 1;
      }
    },
  },
  snapshot: {
    summary: "build the boot stage's V8 startup snapshot with this system's node",
    usage: 'roroot snapshot [--emulator PATH]',
    help: `Builds ${SNAPSHOT_BLOB} from ${SNAPSHOT_ENTRY} with the node that runs this
command, and records that node's identity beside it. /sbin/roroot-init
starts the boot stage from the snapshot when the identity matches, and
from the plain bundle otherwise (a blob only works with the node that
built it, on a CPU like the one it was built on). The package's postinst
runs it, and again when nodejs changes.

  --emulator PATH  build it with node run by this user-mode emulator
                   (qemu-x86_64-static) on QEMU's baseline qemu64 CPU: for
                   an image, whose router is not the machine building it
  --help           this text`,
    flags: { string: ['emulator'], boolean: [], positional: false },
    run: (p) => buildSnapshot('/', print, p.flags.emulator as string | undefined),
  },
  'mount-persistent': {
    summary: 'mount persistent state and REMOTE now, retrying until NFS answers',
    usage: 'roroot mount-persistent [--root DIR] [--once] [--kmsg PATH|none]',
    help: `The persistent half of boot on its own: state (fstab, label, NFS
CLIENTSTATE/HOSTNAME), the state files binds, REMOTE and its symlinks.
Retries with backoff (5 s doubling to 60 s) until every NFS mount answers.
Boot starts it in the background when NFS is down.

${COMMON}
${CMDLINE}
  --kmsg PATH     write kernel log lines to PATH (default DIR/dev/kmsg; none: off)
  --once          one attempt; exit 1 if an NFS mount is still missing
  --quiet         each attempt in the kernel log only (below the console's
                  level); only the end of the outage is said (boot uses it)`,
    flags: { string: ['root', 'cmdline', 'kmsg'], boolean: ['once', 'quiet'], positional: false },
    run: async (p) => {
      const root = rootFlag(p.flags);
      const ok = await mountPersistent({
        root,
        cmdline: (p.flags.cmdline as string | undefined) ?? null,
        kmsg: kmsgFlag(p, root),
        console: print,
        once: !!p.flags.once,
        quiet: !!p.flags.quiet,
        firstDelaySec: 5,
        maxDelaySec: 60,
      });
      return ok ? 0 : 1;
    },
  },
};

function renderUpgrade(st: Awaited<ReturnType<typeof upgradeStatus>>): string {
  const lines = st.slots.map((x) => `slot ${x.slot}  ${x.device.padEnd(12)} ${(x.version ?? '?').padEnd(20)}${x.booted ? ' booted' : ''}${x.default ? ' default' : ''}${x.trial ? ' ON TRIAL' : ''}`);
  if (st.trial) lines.push(`trial: slot ${st.trial.slot} (${st.trial.version}), ${st.trial.triesLeft} boot(s) left`);
  if (st.lastFallback) lines.push(`last: ${st.lastFallback}`);
  return lines.join('\n');
}

function renderDifference(d: persist.Difference): string {
  if (d.same) return `${d.path}: as the factory content`;
  if (d.kind === 'file' || d.kind === 'missing') return d.diff ?? '';
  return [`${d.path}:`, ...(d.added ?? []).map((a) => `  added    ${a}`), ...(d.removed ?? []).map((a) => `  removed  ${a}`), ...(d.changed ?? []).map((a) => `  changed  ${a}`)].join('\n');
}

// --kmsg PATH, --kmsg none, or the system's own /dev/kmsg.
function kmsgFlag(p: Parsed, root: string): string | null {
  if (p.flags.kmsg === 'none') return null;
  return (p.flags.kmsg as string | undefined) ?? hostPath(root, '/dev/kmsg');
}

function releaseFlag(p: Parsed): string {
  return (p.flags['kernel-release'] as string | undefined) ?? kernelRelease();
}

async function showPlan(root: string, cmdline: string | null, release: string, json: boolean): Promise<number> {
  const { plan } = await planRound(root, cmdline, release);
  print(json ? JSON.stringify(plan, null, 1) : renderPlan(plan, root));
  return 0;
}

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    `roroot ${VERSION}: a read-only root for Linux routers`,
    '',
    'usage: roroot COMMAND [options]      roroot COMMAND --help',
    '',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    '  --version  print the version',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === 'version') {
    print(VERSION);
    return 0;
  }
  if (name === undefined || name === '--help' || name === 'help') {
    print(usage());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`roroot: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  const parsed = parseFlags(rest, command.flags);
  if ('error' in parsed) {
    process.stderr.write(`roroot ${name}: ${parsed.error}\nusage: ${command.usage}\n`);
    return 2;
  }
  if (parsed.flags.help) {
    print(`usage: ${command.usage}\n\n${command.help}`);
    return 0;
  }
  return command.run(parsed);
}

// A command that failed, or a copy refused, is said in one line, as the
// command that failed; anything else is a bug in roroot: its stack helps.
export function run(argv: string[]) {
  main(argv).then(
    (code) => (process.exitCode = code),
    (err: Error) => {
      process.stderr.write(`roroot: ${err instanceof CommandError || err instanceof UnsafeCopyError ? err.message : (err.stack ?? err.message)}\n`);
      process.exitCode = 1;
    },
  );
}
