// roroot's own files and directories, named once. Config keys (RW_MOUNT,
// STATE_MOUNT, ...) say where the stores are; these are the fixed places
// roroot itself keeps things, on the root or relative to a store.

// On the root.
export const STATE_DIR = '/var/lib/roroot'; // the stores' mount points and install's records live under it
export const MANIFEST = `${STATE_DIR}/install.json`; // what roroot install changed
export const ORIG_DIR = `${STATE_DIR}/orig`; // the files install edited, as they were
export const LIB_DIR = '/usr/lib/roroot'; // the bundle, the shim, the login wrapper
export const INIT_PATH = '/sbin/roroot-init'; // what the kernel starts (init=)

// Relative to the scratch mount: boot's records, the rw lock, depmod's
// work tree, the enrolment mount, the bind batch's fstab, overlays' upper
// and work directories. Never a path a store or a config can name.
export const RECORD_DIR = '.roroot';
