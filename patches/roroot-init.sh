#!/bin/sh
# /sbin/roroot-init: what the kernel (or the initramfs's run-init) starts as
# PID 1 on a roroot system, via init=/sbin/roroot-init.
#
# node cannot exec(2) another program in place of itself, and PID 1 must
# stay PID 1 across the hand-over, so this shell runs the boot stage as a
# child and then execs the real init -- ALWAYS, even when node is missing,
# crashes, hangs or reports that nothing usable could be made: a router that
# does not come up at all is the worst outcome, and the log says what failed.
#
# The boot stage gets BOOT_DEADLINE seconds (/etc/roroot.conf, default 120):
# every command it runs has a limit of its own, and this one bounds the
# whole stage (node itself stuck, a disk that hangs the kernel). GNU timeout
# (coreutils, Essential) runs it in the foreground: an asynchronous list
# (`&`) would get its stdin from /dev/null, which may not exist yet.
#
# The boot stage starts from its V8 startup snapshot (`roroot snapshot`:
# 85 ms to start against 220 ms for the bundle) when the stamp beside the
# blob still describes this node and CPU, or says it was built on an
# emulated baseline CPU, which is tried (snapshot-check.sh, beside the
# bundle); a blob from another node makes V8 abort, so anything else, a
# missing check included, starts the plain bundle.
#
# The init is /sbin/init unless the kernel command line says roroot.init=.
# RORORT_NODE, RORORT_JS and RORORT_BLOB override where node, the bundle and
# the snapshot are, RORORT_MODPROBE the kernel's module loader (tests).

node=${RORORT_NODE:-/usr/bin/node}
bundle=${RORORT_JS:-/usr/lib/roroot/roroot.js}
blob=${RORORT_BLOB:-/usr/lib/roroot/roroot.blob}

# The config is never run through the shell: keys read by the shell's own
# read, the last of each winning. BOOT_DEADLINE=N (N quoted or not, digits)
# from /etc/roroot.conf; REMOTE, CLIENTSTATE and STATE_LABEL also from
# Fedora's file below it, as the boot stage merges them (their forms
# `export KEY=...` and a `# comment` after a bare value too; a value the
# stage refuses costs a needless head start below, no more). It was sed
# piped into tail: two programs started before node at every boot, each
# ~0.1 s with a cold cache under TCG.
deadline=120
remote=
clientstate=
statelabel=roroot-state
read_keys() {
    while IFS= read -r line || [ -n "$line" ]; do
        line=${line#"${line%%[![:space:]]*}"}
        case $line in export[[:space:]]*) line=${line#export}; line=${line#"${line%%[![:space:]]*}"} ;; esac
        case $line in BOOT_DEADLINE=* | REMOTE=* | CLIENTSTATE=* | STATE_LABEL=*) ;; *) continue ;; esac
        v=${line#*=}
        case $v in *[[:space:]]\#*) v=${v%%[[:space:]]\#*} ;; esac
        v=${v%"${v##*[![:space:]]}"}
        case $v in \"*\" | \'*\') v=${v#?}; v=${v%?} ;; esac
        case $line in
            BOOT_DEADLINE=*)
                [ "$1" = roroot ] || continue
                case $v in '' | *[!0-9]*) ;; *) deadline=$v ;; esac ;;
            REMOTE=*) remote=$v ;;
            CLIENTSTATE=*) clientstate=$v ;;
            STATE_LABEL=*) statelabel=$v ;;
        esac
    done
}
[ -r /etc/sysconfig/readonly-root ] && read_keys fedora < /etc/sysconfig/readonly-root
[ -r /etc/roroot.conf ] && read_keys roroot < /etc/roroot.conf

# The NFS client, loaded beside node's start when the boot stage is to
# mount NFS at once: REMOTE, or CLIENTSTATE with no STATE_LABEL partition
# to come first (an fstab line for the state still does). In the QEMU
# guest the kernel spent ~1.5 s loading sunrpc, nfs and nfsv4 inside
# REMOTE's mount, while node's start from a cold cache waits on the disk
# for about as long; loaded here, REMOTE's mount took 1.09 s instead of
# 3.36 s and the stage 3.12 s instead of 4.66 s (make bench, 2026-12-02;
# the stage starts ~1 s later, the loader taking its share of node's
# start, and the login prompt came ~0.3 s earlier). nfsv4:
# mount.nfs asks for version 4 first. A head start and no more: the mount
# loads what is missing itself, so nothing waits for this, and a failure
# here is the mount's to say. A boot with roroot off loads it for nothing.
nfs=$remote
[ -n "$statelabel" ] || nfs=$nfs$clientstate
if [ -n "$nfs" ]; then
    modprobe=${RORORT_MODPROBE:-}
    if [ -z "$modprobe" ] && [ -r /proc/sys/kernel/modprobe ]; then read -r modprobe < /proc/sys/kernel/modprobe; fi
    if [ -x "$modprobe" ] && [ -c /dev/null ]; then
        "$modprobe" -q nfsv4 < /dev/null > /dev/null 2>&1 &
    fi
fi

say() {
    echo "$2" >&2
    [ -w /dev/kmsg ] && echo "<$1>$2" > /dev/kmsg
}

snapshot_usable() { return 1; }
[ -r "${bundle%/*}/snapshot-check.sh" ] && . "${bundle%/*}/snapshot-check.sh"
snapshot_try=yes
rc=1
if snapshot_usable; then
    # shellcheck disable=SC2086 # one word per flag (snapshot-check.sh)
    timeout -k 5 "$deadline" "$node" $snapshot_flags --snapshot-blob "$blob" -- boot
    rc=$?
    # A blob V8 refuses ends node before any of the boot stage runs (node
    # 18: exit 1, "built with a different version of V8 or with different
    # V8 configurations", as a CPU with CET shadow stacks makes it of an
    # image's blob built without them (snapshot-build.ts); node 20:
    # exit 14; a damaged blob: an abort). So any failure but the deadline's
    # runs the stage once more from the bundle: every step is safe to run
    # twice, and a stage that failed for itself fails again and says so.
    case $rc in
        0)
            # For /usr/sbin/roroot: this CPU starts the blob (/run is the
            # initramfs's tmpfs, moved onto the root, or the boot stage's).
            # `true`, not `:`: a failed redirection of a special built-in
            # ends a dash script, and this one is PID 1.
            [ -d /run ] && [ -w /run ] && true > "$snapshot_started"
            ;;
        124 | 137) ;;
        *) say 4 "roroot-init: the boot stage from its startup snapshot failed (exit $rc): once more from the plain bundle" ;;
    esac
fi
case $rc in
    0 | 124 | 137) ;;
    *)
        timeout -k 5 "$deadline" "$node" "$bundle" boot
        rc=$?
        ;;
esac
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    say 3 "roroot-init: the boot stage did not finish within $deadline s (BOOT_DEADLINE): stopped, handing over anyway"
elif [ "$rc" -ne 0 ]; then
    say 3 "roroot-init: boot stage failed (exit $rc), handing over anyway"
fi

init=/sbin/init
# /proc is mounted by now (by the initramfs, or by the boot stage). No
# 2>/dev/null here: when the boot stage failed early there may be no /dev,
# and a failed redirection would skip the read.
cmdline=
[ -r /proc/cmdline ] && read -r cmdline < /proc/cmdline
for word in $cmdline; do
    case "$word" in
        roroot.init=/*) init=${word#roroot.init=} ;;
    esac
done
if [ ! -x "$init" ]; then
    say 3 "roroot-init: $init is not executable, trying /sbin/init"
    init=/sbin/init
fi
exec "$init" "$@"
