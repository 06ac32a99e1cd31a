# Sourced by /sbin/roroot-init and /usr/sbin/roroot (it lies beside the
# bundle): whether the V8 startup snapshot "$blob" can start under "$node",
# and with which V8 flags ($snapshot_flags, for "$node" $snapshot_flags
# --snapshot-blob "$blob"). A blob built by another node makes V8 abort,
# so anything but a stamp that still holds means the plain bundle.
#
# The stamp ("$blob.node", written by `roroot snapshot`) is one line per
# file that makes the node that built the blob, the binary first (as it is
# started), then its libnode: "PATH SIZE:MTIME"; "v8 FLAGS", the V8 flags
# it was built with (the CPU features V8 may use, all turned off, and the
# interpreter alone: init/snapshot-build.ts says why), which it must run
# with; last the CPU:
# "cpu FLAGS" (built on this machine: its /proc/cpuinfo flags must be the
# same) or "emulated qemu64" (an image's: V8 refuses it on a CPU with CET
# shadow stacks, which no file shows, so it is used where it was seen to
# start this boot, $snapshot_started, which /sbin/roroot-init creates; the
# trampoline itself tries it when snapshot_try is set). Size and
# modification time, not the inode: roroot flash copies the root onto a
# new filesystem, and a stamp with inodes never matched on an image.
#
# One stat for all the stamp's files (a program started before node costs
# ~0.1 s with a cold cache under TCG; it was one stat a file). Its errors
# go to its output (2>&1), not to /dev/null: when the trampoline runs there
# may be no /dev yet, and a failed redirection would fail the test as
# surely, but say nothing about why.
snapshot_started=/run/roroot-snapshot-started
# Only /sbin/roroot-init sets it, after this file: not from the environment.
snapshot_try=
snapshot_usable() {
    [ -r "$blob" ] && [ -r "$blob.node" ] || return 1
    first=
    cpu_checked=
    snapshot_flags=
    wants=
    set --
    while read -r path want; do
        if [ "$path" = v8 ]; then
            # Words the trampolines put on node's command line unquoted:
            # nothing a shell would expand (checked before it is split),
            # and only --no-enable-FEATURE, --mcpu=generic, --jitless and
            # --no-expose-wasm.
            case $want in *[!a-z0-9=\ -]*) return 1 ;; esac
            for flag in $want; do
                case $flag in
                    --no-enable-?* | --mcpu=generic | --jitless | --no-expose-wasm) ;;
                    *) return 1 ;;
                esac
            done
            snapshot_flags=$want
            continue
        fi
        if [ "$path" = cpu ]; then
            # Unquoted: one blank between the words, as the stamp has them.
            # shellcheck disable=SC2046
            [ "$(echo $(sed -n '/^flags[[:space:]]*:/{s/^[^:]*://p;q;}' /proc/cpuinfo 2>&1))" = "$want" ] || return 1
            cpu_checked=yes
            continue
        fi
        if [ "$path" = emulated ]; then
            [ -n "$snapshot_try" ] || [ -e "$snapshot_started" ] || return 1
            cpu_checked=yes
            continue
        fi
        if [ -z "$first" ]; then
            first=$path
            [ "$path" = "$node" ] || return 1
        fi
        set -- "$@" "$path"
        wants="$wants${wants:+
}$want"
    done < "$blob.node"
    # A stamp that says nothing of the CPU (or whose last line lacks its
    # newline, which read drops) is not one roroot snapshot wrote.
    [ -n "$first" ] && [ -n "$cpu_checked" ] && [ "$(stat -L -c %s:%Y "$@" 2>&1)" = "$wants" ]
}
