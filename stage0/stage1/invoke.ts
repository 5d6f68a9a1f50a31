// Calling a pod's stage1 entrypoints: run and enter replace this process (execve); stop and gc are
// spawned and waited for. cwd is always the pod directory (docs/stage1-contract.md).
import { spawn, type ChildProcess } from 'node:child_process';
import { execa } from 'execa';
import { RktError } from '../../common/errors.js';
import { keepPassedFdsAcrossExec } from '../../common/listen-fds.js';
import { execve, setCloexec } from '../../common/native.js';
import { HANDOVER_CLOCK_ENV } from '../../common/phase-clock.js';
import { LOCK_FD_ENV } from '../../common/stage1-contract.js';
import type { Output } from '../context/output.js';

/**
 * Replaces rkt with the run entrypoint. `lockFd` is the pod dir's fd holding the exclusive lock; it is
 * made inheritable and named in RKT_LOCK_FD. Never returns.
 */
export function execRunEntrypoint(podDir: string, entrypoint: string, args: string[], lockFd: number, out: Output): never {
  setCloexec(lockFd, false);
  const passed = keepPassedFdsAcrossExec();
  if (passed > 0) out.debug(`passing ${passed} socket(s) from the service manager (LISTEN_FDS) on to the stage1`);
  // The stage1 times its own phases from this moment (common/phase-clock.ts).
  const env = { ...process.env, [LOCK_FD_ENV]: String(lockFd), [HANDOVER_CLOCK_ENV]: String(process.hrtime.bigint()) };
  out.debug(`exec ${[entrypoint, ...args].map(shellQuote).join(' ')} (cwd ${podDir}, ${LOCK_FD_ENV}=${lockFd})`);
  process.chdir(podDir);
  return execOrThrow(entrypoint, args, env);
}

/** Replaces rkt with the enter entrypoint. Never returns. */
export function execEnterEntrypoint(podDir: string, entrypoint: string, args: string[], out: Output): never {
  out.debug(`exec ${[entrypoint, ...args].map(shellQuote).join(' ')} (cwd ${podDir})`);
  process.chdir(podDir);
  const env = { ...process.env };
  delete env[LOCK_FD_ENV];
  return execOrThrow(entrypoint, args, env);
}

/** Replaces rkt with any program (e.g. journalctl for `rkt logs`), stdio inherited. Never returns. */
export function execProgram(file: string, args: string[], env: NodeJS.ProcessEnv): never {
  return execve(file, [file, ...args], env);
}

function execOrThrow(entrypoint: string, args: string[], env: NodeJS.ProcessEnv): never {
  try {
    return execve(entrypoint, [entrypoint, ...args], env);
  } catch (err) {
    throw new RktError('STAGE1', `cannot execute stage1 entrypoint ${entrypoint}: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
      hint: 'the stage1 image must carry an executable at the path its manifest annotation names',
    });
  }
}

/** Spawns stop/gc with inherited stdout/stderr and waits; returns the exit code (signals -> 128+n). */
export async function spawnEntrypoint(podDir: string, entrypoint: string, args: string[], out: Output): Promise<number> {
  out.debug(`running ${[entrypoint, ...args].map(shellQuote).join(' ')} (cwd ${podDir})`);
  const env = { ...process.env };
  delete env[LOCK_FD_ENV];
  const r = await execa(entrypoint, args, { cwd: podDir, stdin: 'ignore', stdout: 'inherit', stderr: 'inherit', reject: false, env, extendEnv: false });
  if (r.failed && r.exitCode === undefined && r.signal === undefined) {
    throw new RktError('STAGE1', `cannot execute stage1 entrypoint ${entrypoint}: ${r.shortMessage}`);
  }
  if (r.exitCode !== undefined) return r.exitCode;
  return 128 + (r.signal ? (signalNumber(r.signal) ?? 1) : 1);
}

/** Starts the attach entrypoint with rkt's own stdin (the app's input), stdout and stderr; the caller waits. */
export function spawnAttachEntrypoint(podDir: string, entrypoint: string, args: string[], out: Output): ChildProcess {
  out.debug(`running ${[entrypoint, ...args].map(shellQuote).join(' ')} (cwd ${podDir}, stdin: rkt's)`);
  const env = { ...process.env };
  delete env[LOCK_FD_ENV];
  return spawn(entrypoint, args, { cwd: podDir, stdio: ['inherit', 'ignore', 'inherit'], env });
}

/**
 * Runs an app entrypoint and waits. Its stderr is kept, not shown (with --debug it is shown as it comes):
 * a failure becomes one error line from rkt carrying the stage1's own last line, instead of two.
 */
export async function runAppEntrypoint(podDir: string, entrypoint: string, args: string[], out: Output, debug: boolean): Promise<void> {
  await callAppEntrypoint(podDir, entrypoint, args, (l) => out.debug(l), debug, 'inherit');
}

/** Like runAppEntrypoint, for an entrypoint whose answer is its stdout (app/stats). */
export async function captureAppEntrypoint(podDir: string, entrypoint: string, args: string[], debugLine: (l: string) => void, debug: boolean): Promise<string> {
  return callAppEntrypoint(podDir, entrypoint, args, debugLine, debug, 'pipe');
}

async function callAppEntrypoint(
  podDir: string, entrypoint: string, args: string[], debugLine: (l: string) => void, debug: boolean, stdout: 'inherit' | 'pipe',
): Promise<string> {
  debugLine(`running ${[entrypoint, ...args].map(shellQuote).join(' ')} (cwd ${podDir})`);
  const env = { ...process.env };
  delete env[LOCK_FD_ENV];
  const child = execa(entrypoint, args, { cwd: podDir, stdin: 'ignore', stdout, stderr: 'pipe', reject: false, env, extendEnv: false });
  if (debug) child.stderr?.on('data', (d: Buffer) => process.stderr.write(d));
  const r = await child;
  if (r.failed && r.exitCode === undefined && r.signal === undefined) {
    throw new RktError('STAGE1', `cannot execute stage1 entrypoint ${entrypoint}: ${r.shortMessage}`);
  }
  if (r.exitCode === 0) return stdout === 'pipe' ? String(r.stdout ?? '') : '';
  const lines = String(r.stderr ?? '').split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const hint = lines.find((l) => l.startsWith('hint:'))?.slice(5).trim();
  const errors = lines.filter((l) => !l.startsWith('hint:'));
  const last = (errors[errors.length - 1] ?? `exited with ${r.exitCode ?? r.signal}`).replace(/^stage1[^:]*:\s*/, '');
  throw new RktError('STAGE1', last, { exitCode: 254, ...(hint ? { hint } : {}) });
}

function signalNumber(sig: string): number | undefined {
  const map: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGSEGV: 11, SIGTERM: 15 };
  return map[sig];
}

export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=,@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
