#!/bin/sh
# /sbin/roroot-init: what the kernel (or the initramfs's run-init) starts as
# PID 1 on a roroot system, via init=/sbin/roroot-init.
#
# node cannot exec(2) another program in place of itself, and PID 1 must
# stay PID 1 across the hand-over, so this shell runs the boot stage as a
# child and then execs the real init -- ALWAYS, even when node is missing,
# crashes or reports that nothing usable could be made: a router that does
# not come up at all is the worst outcome, and the log says what failed.
#
# The init is /sbin/init unless the kernel command line says roroot.init=.
# RORORT_NODE and RORORT_JS override where node and the bundle are (tests).

node=${RORORT_NODE:-/usr/bin/node}
bundle=${RORORT_JS:-/usr/lib/roroot/roroot.js}

"$node" "$bundle" boot
rc=$?
if [ "$rc" -ne 0 ]; then
    msg="roroot-init: boot stage failed (exit $rc), handing over anyway"
    echo "$msg" >&2
    [ -w /dev/kmsg ] && echo "<3>$msg" > /dev/kmsg
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
    echo "roroot-init: $init is not executable, trying /sbin/init" >&2
    init=/sbin/init
fi
exec "$init" "$@"
