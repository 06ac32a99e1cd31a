#!/bin/sh
# /usr/sbin/roroot: the roroot command, one bundled file run by the
# system's node.
exec /usr/bin/node /usr/lib/roroot/roroot.js "$@"
