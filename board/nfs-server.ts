import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';

// nfs-ganesha in user space, NFSv4 only, bound to 127.0.0.1 on a free high
// port, exporting one directory as /export. Guests reach it only through
// QEMU's guestfwd (10.0.2.100:2049 inside the guest); nothing else can.

export class NfsServer {
  private child: ChildProcess | null = null;

  private constructor(
    readonly exportDir: string,
    readonly workDir: string,
    readonly port: number,
  ) {}

  static async start(workDir: string, exportDir = join(workDir, 'export')): Promise<NfsServer> {
    mkdirSync(exportDir, { recursive: true });
    mkdirSync(join(workDir, 'recovery'), { recursive: true });
    const server = new NfsServer(exportDir, workDir, await freePort());
    writeFileSync(join(workDir, 'ganesha.conf'), server.config());
    await server.run();
    return server;
  }

  private config(): string {
    return `NFS_CORE_PARAM {
    NFS_Port = ${this.port};
    Bind_addr = 127.0.0.1;
    Protocols = 4;
    Enable_NLM = false;
    Enable_RQUOTA = false;
    Enable_UDP = false;
}
NFSV4 {
    Graceless = true;
    RecoveryBackend = fs;
    RecoveryRoot = ${join(this.workDir, 'recovery')};
}
EXPORT {
    Export_Id = 1;
    Path = ${this.exportDir};
    Pseudo = /export;
    Access_Type = RW;
    Squash = No_Root_Squash;
    SecType = sys;
    Protocols = 4;
    Transports = TCP;
    FSAL { Name = VFS; }
}
LOG { Default_Log_Level = WARN; }
`;
  }

  private async run() {
    this.child = spawn('ganesha.nfsd', ['-F', '-L', join(this.workDir, 'ganesha.log'), '-f', join(this.workDir, 'ganesha.conf'), '-p', join(this.workDir, 'ganesha.pid')], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      if (await listening(this.port)) return;
      if (this.child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`nfs-ganesha did not start on 127.0.0.1:${this.port} (see ${join(this.workDir, 'ganesha.log')})`);
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM') {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  }

  // Where a board's NFS path (REMOTE, CLIENTSTATE) lands on this machine:
  // 10.0.2.100:/export/clientstate -> EXPORT/clientstate.
  hostPath(spec: string): string {
    const path = spec.slice(spec.indexOf(':') + 1);
    if (path !== '/export' && !path.startsWith('/export/')) throw new Error(`${spec}: not under the test server's /export`);
    return join(this.exportDir, path.slice('/export'.length));
  }

  // The server stopped mid-run (SIGKILL: crashed), then the same server
  // back on the same port.
  async restart(signal: NodeJS.Signals = 'SIGTERM') {
    await this.stop(signal);
    await this.run();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}
