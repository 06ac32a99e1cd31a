// roroot's own files and directories, named once. Config keys (RW_MOUNT,
// STATE_MOUNT, ...) say where the stores are; these are the fixed places
// roroot itself keeps things, on the root or relative to a store.

// On the root.
export const STATE_DIR = '/var/lib/roroot'; // the stores' mount points and install's records live under it
export const MANIFEST = `${STATE_DIR}/install.json`; // what roroot install changed
export const ORIG_DIR = `${STATE_DIR}/orig`; // the files install edited, as they were
export const LIB_DIR = '/usr/lib/roroot'; // the bundle, the shim, the login wrapper
export const BUNDLE = `${LIB_DIR}/roroot.js`;
// The V8 startup snapshot built by the router's own node from
// SNAPSHOT_ENTRY, and the identity of the node binary that built it (a blob
// only works with that binary: another one makes V8 abort).
export const SNAPSHOT_ENTRY = `${LIB_DIR}/roroot-snapshot.js`;
export const SNAPSHOT_BLOB = `${LIB_DIR}/roroot.blob`;
export const SNAPSHOT_STAMP = `${SNAPSHOT_BLOB}.node`;
export const INIT_PATH = '/sbin/roroot-init'; // what the kernel starts (init=)
export const FIRMWARE = '/etc/roroot/firmware'; // the image's version, written by the image builder

// Relative to the scratch mount: boot's records, the rw lock, depmod's
// work tree, the enrolment mount, the bind batch's fstab, overlays' upper
// and work directories. Never a path a store or a config can name.
export const RECORD_DIR = '.roroot';
