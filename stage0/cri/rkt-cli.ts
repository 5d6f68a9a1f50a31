// Every change to pods and images goes through the rkt CLI itself, one process per operation, as rktlet did:
// the CLI's locks, rollbacks and kill -9 safety then hold for CRI callers too, and the endpoint keeps no state.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { CriError } from './errors.js';

const RKT_JS = fileURLToPath(new URL('../../bin/rkt.js', import.meta.url));

export interface RktCliOptions {
  /** Global flags every call gets (--dir, config dirs). */
  globalArgs: readonly string[];
  debug: (line: string) => void;
}

export interface RktResult { stdout: string; stderr: string; code: number }

/** ExecSync returns the command's bytes as they were, not decoded text. */
export interface RktCapture extends RktResult { stdoutBytes: Buffer; stderrBytes: Buffer; timedOut: boolean }

/** The one line of a failed rkt command worth showing: its first "<command>: <message> (hint)" line. */
export function rktErrorLine(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  return lines.find((l) => /^[a-z][a-z0-9 -]*: /.test(l)) ?? lines.at(-1) ?? 'rkt failed without a message';
}

export class RktCli {
  constructor(private readonly opts: RktCliOptions) {}

  argv(args: readonly string[]): string[] {
    return [RKT_JS, ...this.opts.globalArgs, ...args];
  }

  /**
   * Runs rkt to completion; a non-zero exit becomes a CriError with rkt's own message. `usageCode` is the
   * status for rkt's usage errors (exit 2: the request asked for something rkt refuses); any other failure
   * (a stage1 or guest that did not answer, a full disk) is the runtime's, not the caller's, and says UNKNOWN.
   */
  async run(args: readonly string[], o: { timeoutMs?: number; usageCode?: GrpcStatus } = {}): Promise<RktResult> {
    const r = await this.capture(args, o.timeoutMs);
    if (r.code !== 0) throw new CriError(r.code === 2 && o.usageCode !== undefined ? o.usageCode : GrpcStatus.UNKNOWN, `rkt ${rktErrorLine(r.stderr)}`);
    return r;
  }

  /** Runs rkt and returns whatever it did, exit code included (ExecSync needs the command's own code). */
  capture(args: readonly string[], timeoutMs?: number, stdin?: Buffer): Promise<RktCapture> {
    this.opts.debug(`rkt ${args.join(' ')}`);
    return new Promise((resolve, reject) => {
      // Its own process group, so a timeout kills what rkt exec'd and forked too (nsenter forks for --pid).
      const child = spawn(process.execPath, this.argv(args), { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let timedOut = false;
      let settled = false;
      const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        const stdoutBytes = Buffer.concat(out);
        const stderrBytes = Buffer.concat(err);
        resolve({ stdout: stdoutBytes.toString('utf8'), stderr: stderrBytes.toString('utf8'), stdoutBytes, stderrBytes, code: code ?? (signal ? 128 + 9 : 1), timedOut });
      };
      const timer = timeoutMs !== undefined && timeoutMs > 0
        ? setTimeout(() => {
          timedOut = true;
          try { if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL'); } catch { child.kill('SIGKILL'); }
        }, timeoutMs)
        : undefined;
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      child.on('error', reject);
      // After a timeout a grandchild outside the group may still hold the pipes: the exit is enough.
      child.on('exit', (code, signal) => { if (timedOut) finish(code, signal); });
      child.on('close', finish);
      child.stdin.on('error', () => undefined);
      child.stdin.end(stdin);
    });
  }

  /** Starts a long-running rkt (a sandbox) in its own session, output to `logFile`: it outlives the endpoint. */
  spawnDetached(args: readonly string[], logFile: string): ChildProcess {
    this.opts.debug(`rkt ${args.join(' ')} (detached, output in ${logFile})`);
    const fd = openSync(logFile, 'a', 0o600);
    try {
      const child = spawn(process.execPath, this.argv(args), { detached: true, stdio: ['ignore', fd, fd] });
      child.unref();
      return child;
    } finally {
      closeSync(fd);
    }
  }

  /** A streaming child (exec sessions): stdio piped. */
  spawnPiped(args: readonly string[]): ChildProcess {
    this.opts.debug(`rkt ${args.join(' ')} (stream)`);
    return spawn(process.execPath, this.argv(args), { stdio: ['pipe', 'pipe', 'pipe'] });
  }
}
