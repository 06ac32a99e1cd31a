# Sourced by /sbin/roroot-init and /usr/sbin/roroot (it lies beside the
# bundle): whether the V8 startup snapshot "$blob" can start under "$node".
# A blob built by another node makes V8 abort, so anything but a stamp
# that still holds means the plain bundle.
#
# The stamp ("$blob.node", written by `roroot snapshot`) is one line per
# file that makes the node that built the blob, the binary first (as it is
# started), then its libnode: "PATH SIZE:MTIME"; last "cpu FLAGS", the
# CPU's flags where it was built (V8 refuses a blob from a CPU with other
# features). Size and modification
# time, not the inode: roroot flash copies the root onto a new filesystem,
# and a stamp with inodes never matched on an image.
#
# stat's errors go to its output (2>&1), not to /dev/null: when the
# trampoline runs there may be no /dev yet, and a failed redirection would
# fail the test as surely, but say nothing about why.
snapshot_usable() {
    [ -r "$blob" ] && [ -r "$blob.node" ] || return 1
    first=
    while read -r path want; do
        if [ "$path" = cpu ]; then
            # Unquoted: one blank between the words, as the stamp has them.
            # shellcheck disable=SC2046
            [ "$(echo $(sed -n '/^flags[[:space:]]*:/{s/^[^:]*://p;q;}' /proc/cpuinfo 2>&1))" = "$want" ] || return 1
            continue
        fi
        if [ -z "$first" ]; then
            first=$path
            [ "$path" = "$node" ] || return 1
        fi
        [ "$(stat -L -c %s:%Y "$path" 2>&1)" = "$want" ] || return 1
    done < "$blob.node"
    [ -n "$first" ]
}
