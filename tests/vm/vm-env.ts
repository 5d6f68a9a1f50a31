// Helpers for the tests that run inside the test VM: where we are, running commands, and
// printing each check's command with the output lines that prove it into the CI log.
import { execa } from 'execa';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist/tests/vm/<file>.js -> the project root (read-only /project inside the VM). */
export const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const rktBin = join(projectRoot, 'dist', 'bin', 'rkt.js');

/** True only inside the VM booted by test-vm/run.sh (systemd as PID 1, machined available). */
export function inTestVm(): boolean {
  if (process.env['RKT_TEST_VM'] !== '1') return false;
  try {
    return readFileSync('/proc/1/comm', 'utf8').trim() === 'systemd';
  } catch {
    return false;
  }
}

/** The skip reason for every in-VM test when run anywhere else (node:test `skip` option). */
export const skipOutsideVm: string | false = inTestVm()
  ? false
  : 'needs systemd as PID 1 and machined: runs inside the test VM (npm run test:vm)';

export function stage1ImagePath(flavor: 'nspawn' | 'kvm'): string {
  return join(projectRoot, 'dist', 'stage1-images', `stage1-${flavor}.aci`);
}

/** Why a flavor's tests cannot run here, or false when its stage1 image is built. */
export function stage1Missing(flavor: 'nspawn' | 'kvm'): string | false {
  if (skipOutsideVm) return skipOutsideVm;
  const p = stage1ImagePath(flavor);
  return existsSync(p) ? false : `${p} is missing: run bash scripts/build-stage1-images.sh before npm run test:vm`;
}

export interface CmdResult {
  command: string;
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion, never throwing on a non-zero exit (tests assert on it). */
export async function sh(file: string, args: string[], opts: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<CmdResult> {
  const r = await execa(file, args, {
    reject: false,
    timeout: opts.timeoutMs ?? 120_000,
    env: opts.env,
    stdin: 'ignore',
  });
  return {
    command: [file, ...args].map(quote).join(' '),
    exitCode: r.exitCode ?? -1,
    stdout: String(r.stdout ?? ''),
    stderr: String(r.stderr ?? ''),
  };
}

function quote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Prints one check: the command that was run and the lines of its output that prove it. */
export function proof(check: string, r: CmdResult, lines: string[]): void {
  const out = [`PROOF ${check}`, `  $ ${r.command}`, ...lines.map((l) => `  | ${l}`)];
  process.stdout.write(out.join('\n') + '\n');
}

/** The lines of text matching a pattern (what a proof prints). */
export function grepLines(text: string, pattern: RegExp | string): string[] {
  return text.split('\n').filter((l) => (typeof pattern === 'string' ? l.includes(pattern) : pattern.test(l)));
}

/** Prints a failed command in full so a red CI log says why without a rerun. */
export function explain(r: CmdResult): string {
  return `${r.command} exited ${r.exitCode}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls fn until it returns a value or the deadline passes (then returns undefined). */
export async function waitFor<T>(fn: () => Promise<T | undefined>, timeoutMs: number, stepMs = 500): Promise<T | undefined> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() >= end) return undefined;
    await sleep(stepMs);
  }
}
