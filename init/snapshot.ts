import { startupSnapshot } from 'node:v8';
import { run } from './main';
import { warmForBoot } from './snapshot-warm';

// dist/roroot-snapshot.js, from which the router's node builds its V8
// startup snapshot (`node --snapshot-blob roroot.blob --build-snapshot
// roroot-snapshot.js`): every module of roroot loaded and compiled once,
// at build time, so that `node --snapshot-blob roroot.blob COMMAND ...`
// starts without compiling anything. Node 18's own code has no code cache
// (Debian builds it without), and compiling node's bootstrap and roroot
// was most of a boot stage's start. Run from the snapshot, argv is
// [node, COMMAND, ...]: there is no script.
//
// The require a snapshot's entry is given warns "built-in module
// node:child_process is not yet supported in user snapshots" each time it
// loads a module node cannot snapshot, at run time too (sys/child.ts loads
// child_process when a command needs it): on a router that was a warning on
// the console at every boot. It is true and harmless there, so that one alone
// is not said.
startupSnapshot.setDeserializeMainFunction(() => {
  const emitWarning = process.emitWarning.bind(process) as (...a: unknown[]) => void;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    if (!String(warning).includes('is not yet supported in user snapshots')) emitWarning(warning, ...rest);
  }) as typeof process.emitWarning;
  return run(process.argv.slice(1));
});

void warmForBoot();
