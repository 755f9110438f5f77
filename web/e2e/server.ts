import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** freePort asks the kernel for a port nobody is listening on. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Server is one parley process on a free port with a database in a
 * temporary directory. stop and start keep the port and the database, so a
 * restart looks to the browser like the same server coming back.
 */
export class Server {
  readonly url: string;
  readonly dir: string;
  log = '';
  private proc: ChildProcess | null = null;

  private constructor(
    readonly bin: string,
    readonly port: number,
    /** More settings for parley serve, such as -guests=false. */
    readonly args: readonly string[],
  ) {
    this.url = `http://127.0.0.1:${port}`;
    this.dir = mkdtempSync(path.join(tmpdir(), 'parley-e2e-db-'));
  }

  static async launch(bin: string, args: readonly string[] = []): Promise<Server> {
    const s = new Server(bin, await freePort(), args);
    await s.start();
    return s;
  }

  get running(): boolean {
    return this.proc !== null;
  }

  /** start runs the server and waits until GET /api/health answers. */
  async start(): Promise<void> {
    if (this.proc) throw new Error('server already running');
    const args = ['serve', '-addr', `127.0.0.1:${this.port}`, '-database', path.join(this.dir, 'parley.db'), '-grace', '2s', ...this.args];
    const proc = spawn(this.bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PARLEY_PROFILE: 'development' } });
    this.proc = proc;
    const append = (b: Buffer) => {
      this.log += b.toString();
    };
    proc.stdout?.on('data', append);
    proc.stderr?.on('data', append);
    let exited = false;
    proc.on('exit', () => {
      exited = true;
    });
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (exited) {
        this.proc = null;
        throw new Error(`parley exited during start-up:\n${this.log}`);
      }
      try {
        const res = await fetch(`${this.url}/api/health`);
        if (res.ok) return;
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline) throw new Error(`parley did not answer /api/health within 15 s:\n${this.log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** stop sends SIGTERM (the server drains and closes sockets with 1001) and waits for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    this.resume();
    this.proc = null;
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const t0 = Date.now();
    await new Promise<void>((resolve) => {
      const kill = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      proc.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      proc.kill(signal);
    });
    if (process.env.PARLEY_E2E_DEBUG) console.log(`parley stopped in ${Date.now() - t0} ms`);
  }

  /** pause freezes the process (SIGSTOP): sockets stay open, nothing is answered. */
  pause(): void {
    this.proc?.kill('SIGSTOP');
  }

  /** resume lets a paused process run again (SIGCONT). */
  resume(): void {
    this.proc?.kill('SIGCONT');
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
