import { startupSnapshot } from 'node:v8';
import { run } from './main';

// dist/roroot-snapshot.js, from which the router's node builds its V8
// startup snapshot (`node --snapshot-blob roroot.blob --build-snapshot
// roroot-snapshot.js`): every module of roroot loaded and compiled once,
// at build time, so that `node --snapshot-blob roroot.blob COMMAND ...`
// starts without compiling anything. Node 18's own code has no code cache
// (Debian builds it without), and compiling node's bootstrap and roroot
// was most of a boot stage's start. Run from the snapshot, argv is
// [node, COMMAND, ...]: there is no script.
startupSnapshot.setDeserializeMainFunction(() => run(process.argv.slice(1)));
