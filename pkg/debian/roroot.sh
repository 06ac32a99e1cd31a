#!/bin/sh
# /usr/sbin/roroot: the roroot command, run by the system's node from the
# startup snapshot `roroot snapshot` built (80 ms to start against 200 ms
# for the bundle, and below node's own 130 ms for `node -e 0`: nothing is
# compiled), or from the one bundled file when the snapshot is not this
# node's (snapshot-check.sh). RORORT_NODE, RORORT_JS and RORORT_BLOB
# override where they are (tests).
node=${RORORT_NODE:-/usr/bin/node}
bundle=${RORORT_JS:-/usr/lib/roroot/roroot.js}
blob=${RORORT_BLOB:-/usr/lib/roroot/roroot.blob}
snapshot_usable() { return 1; }
[ -r "${bundle%/*}/snapshot-check.sh" ] && . "${bundle%/*}/snapshot-check.sh"
if snapshot_usable; then
    # shellcheck disable=SC2086 # one word per flag (snapshot-check.sh)
    exec "$node" $snapshot_flags --snapshot-blob "$blob" -- "$@"
fi
exec "$node" "$bundle" "$@"
