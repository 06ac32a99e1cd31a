// node:crypto, loaded the first time something hashes, verifies or wants
// OpenSSL's generator (an upgrade, a flash). The boot stage uses none of
// it: required at the top of a module (the identity's random bytes, the
// upgrade's hash), it sat in the startup snapshot (250 KB of its 3.4 MB)
// and in every boot stage's heap, ~0.7 MiB of a peak RSS held to 50 MiB
// (node 18 in the image's root: an empty snapshot starts in 46.4 MiB, one
// that requires crypto in 47.1). flash loaded it in place before, for the
// ~15 ms it cost each boot.
export function nodeCrypto(): typeof import('node:crypto') {
  return require('node:crypto') as typeof import('node:crypto');
}
