// Timing helpers: wall-clock seconds of a command or async step, warm-up first, then N runs.
import { execa } from 'execa';

export interface TimedOptions {
  runs: number;
  warmup: number;
  /** Runs before each timed sample, untimed (e.g. a fresh store). */
  before?: () => Promise<void>;
  after?: () => Promise<void>;
}

export async function timeAsync(fn: () => Promise<void>, opts: TimedOptions): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < opts.warmup + opts.runs; i++) {
    if (opts.before) await opts.before();
    const t0 = process.hrtime.bigint();
    await fn();
    const dt = Number(process.hrtime.bigint() - t0) / 1e9;
    if (opts.after) await opts.after();
    if (i >= opts.warmup) out.push(dt);
  }
  return out;
}

/** Runs a command and throws with its stderr when it fails, so a broken benchmark never reports a number. */
export async function run(cmd: string, args: string[], env?: Record<string, string>): Promise<string> {
  const r = await execa(cmd, args, { reject: false, env: { ...process.env, ...env }, stdin: 'ignore' });
  if (r.exitCode !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.exitCode}: ${String(r.stderr).trim().split('\n').slice(-3).join(' | ')}`);
  }
  return String(r.stdout);
}

export function timeCommand(cmd: string, args: string[], opts: TimedOptions, env?: Record<string, string>): Promise<number[]> {
  return timeAsync(async () => {
    await run(cmd, args, env);
  }, opts);
}

export interface PairedOptions {
  runs: number;
  warmup: number;
  /** Untimed, before each sample of either side. */
  before?: (side: 'ours' | 'base') => Promise<void>;
}

/**
 * Times two sides in alternation (ours, base, ours, base, ...), so load from other processes on a shared
 * machine lands on both sides alike instead of on whichever side ran during it.
 */
export async function timeInterleaved(ours: () => Promise<void>, base: () => Promise<void>, opts: PairedOptions): Promise<{ ours: number[]; base: number[] }> {
  const out = { ours: [] as number[], base: [] as number[] };
  for (let i = 0; i < opts.warmup + opts.runs; i++) {
    for (const [side, fn] of [['ours', ours], ['base', base]] as const) {
      if (opts.before) await opts.before(side);
      const t0 = process.hrtime.bigint();
      await fn();
      const dt = Number(process.hrtime.bigint() - t0) / 1e9;
      if (i >= opts.warmup) out[side].push(dt);
    }
  }
  return out;
}
