// Run a program and capture its output, with node builtins only: common/ code runs inside stage1
// images, which carry our compiled JS but no node_modules (so no execa there).
import { spawn } from 'node:child_process';

export interface CaptureOptions {
  input?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
  cwd?: string;
}

export interface CaptureResult {
  exitCode: number;
  /** Set when the process was killed by a signal (including our timeout). */
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  /** Set when the program could not be started at all (ENOENT, EACCES). */
  spawnError?: Error;
}

export function capture(file: string, args: readonly string[], opts: CaptureOptions = {}): Promise<CaptureResult> {
  return new Promise((resolve) => {
    const child = spawn(file, [...args], {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    if (opts.input !== undefined && child.stdin) {
      child.stdin.on('error', () => undefined); // a plugin that exits without reading stdin
      child.stdin.end(opts.input);
    }
    const finish = (exitCode: number, signal: NodeJS.Signals | null, spawnError?: Error): void => {
      if (timer) clearTimeout(timer);
      resolve({
        exitCode,
        signal,
        timedOut,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        ...(spawnError ? { spawnError } : {}),
      });
    };
    child.on('error', (e) => finish(-1, null, e));
    child.on('close', (code, signal) => finish(code ?? -1, signal));
  });
}
