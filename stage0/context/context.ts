// What every command handler receives: normalized global options and an output sink.
import type { PhaseClock } from '../../common/phase-clock.js';
import type { GlobalOptions } from './global-options.js';
import type { Output } from './output.js';

export interface CommandContext {
  readonly globals: GlobalOptions;
  readonly output: Output;
  /** The full command name, e.g. "image list", used as the stderr prefix. */
  readonly command: string;
  /** Phases of this command so far, from the process's start (`rkt run --debug` prints them at the handover). */
  readonly clock: PhaseClock;
}

/** A handler returns the process exit code; it never prints errors or exits itself. */
export type Handler<A extends unknown[] = unknown[]> = (ctx: CommandContext, ...args: A) => Promise<number>;
