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
# the snapshot are (tests).

node=${RORORT_NODE:-/usr/bin/node}
bundle=${RORORT_JS:-/usr/lib/roroot/roroot.js}
blob=${RORORT_BLOB:-/usr/lib/roroot/roroot.blob}

# The config is never run through the shell: one key read as digits,
# BOOT_DEADLINE=N (N quoted or not; the last one), by the shell's own read.
# It was sed piped into tail: two programs started before node at every
# boot, each ~0.1 s with a cold cache under TCG.
deadline=120
if [ -r /etc/roroot.conf ]; then
    while IFS= read -r line || [ -n "$line" ]; do
        line=${line#"${line%%[![:space:]]*}"}
        case $line in BOOT_DEADLINE=*) ;; *) continue ;; esac
        v=${line#BOOT_DEADLINE=}
        v=${v%"${v##*[![:space:]]}"}
        case $v in \"*\" | \'*\') v=${v#?}; v=${v%?} ;; esac
        case $v in '' | *[!0-9]*) ;; *) deadline=$v ;; esac
    done < /etc/roroot.conf
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
