// Where a pod start's milliseconds go, for `--debug`: each side of the handover (stage0, then the stage1's run
// entrypoint it execs) marks the end of its phases and prints one line per phase. The monotonic clock is
// the kernel's (libuv's hrtime is CLOCK_MONOTONIC), so the stage1 can measure from the moment stage0
// exec'd it, which stage0 hands over in HANDOVER_CLOCK_ENV.

/** The monotonic time (ns, decimal) at which stage0 exec'd the stage1's run entrypoint. */
export const HANDOVER_CLOCK_ENV = 'RKT_HANDOVER_MONOTONIC_NS';

export interface Phase { name: string; ms: number }

export class PhaseClock {
  private last: bigint;
  private readonly phases: Phase[] = [];

  /** `startNs`: when the first phase began (default: now). */
  constructor(startNs: bigint = process.hrtime.bigint()) {
    this.last = startNs;
  }

  /** Ends the phase `name` now; the next one starts here. */
  mark(name: string): void {
    const now = process.hrtime.bigint();
    this.phases.push({ name, ms: Number(now - this.last) / 1e6 });
    this.last = now;
  }

  list(): readonly Phase[] {
    return this.phases;
  }

  /** One line per phase and a total: `<side> <phase>: 12.3 ms`. */
  lines(side: string): string[] {
    const total = this.phases.reduce((s, p) => s + p.ms, 0);
    return [...this.phases.map((p) => `timing: ${side} ${p.name}: ${p.ms.toFixed(1)} ms`), `timing: ${side} total: ${total.toFixed(1)} ms`];
  }
}

/** The monotonic ns at which this process started (node's own start-up and module loading included). */
export function processStartNs(): bigint {
  return process.hrtime.bigint() - BigInt(Math.round(performance.now() * 1e6));
}

/** The handover time from the environment, or undefined when stage0 did not pass one (an older stage0). */
export function handoverNs(env: NodeJS.ProcessEnv = process.env): bigint | undefined {
  const v = env[HANDOVER_CLOCK_ENV];
  return v !== undefined && /^[0-9]{1,20}$/.test(v) ? BigInt(v) : undefined;
}
