#!/bin/sh
# /bin/login on a board with static /dev (DEVTMPFS=no), installed by
# `roroot install` over a dpkg-divert of the real one.
#
# The tty nodes are on the read-only root, so login's chown/chmod of its
# terminal fails with EROFS. The seed's router shipped a patched login for
# that; this runs the distribution's own login with the EROFS shim preloaded,
# for that one program only: the shim removes LD_PRELOAD again at load, so
# the user's session does not inherit it.
LD_PRELOAD=/usr/lib/roroot/login-erofs-shim.so exec /bin/login.roroot-real "$@"
