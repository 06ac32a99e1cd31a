// node:child_process, loaded the first time a process is started. Node 18
// cannot put it in a user startup snapshot: required while the snapshot is
// built, it prints "built-in module child_process is not yet supported in
// user snapshots" and the build dies. The commands sys/spawn.ts runs start
// on node's process handles instead (sys/process-handle.ts), unless that
// node lacks them or a command is given input; what needs more of
// child_process (a detached retry, inherited stdio, dd's stream) is here.
export function childProcess(): typeof import('node:child_process') {
  return require('node:child_process') as typeof import('node:child_process');
}
