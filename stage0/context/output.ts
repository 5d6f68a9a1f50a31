// Where a command's words go: results to stdout, debug and progress to stderr prefixed by the command.
import tty from 'node:tty';

export interface Output {
  /** A result line on stdout. */
  out(line: string): void;
  /** A warning on stderr, always shown. */
  warn(line: string): void;
  /** Explains a decision; shown only with --debug. */
  debug(line: string): void;
  /** Progress on stderr when it is a TTY (or with --debug). */
  progress(line: string): void;
  readonly debugEnabled: boolean;
}

export function makeOutput(command: string, debugEnabled: boolean): Output {
  // tty.isatty, not process.stderr.isTTY: touching process.stderr makes libuv switch the fd to
  // non-blocking mode, which a stage1 exec'd later would inherit.
  const isTty = tty.isatty(2);
  return {
    debugEnabled,
    out: (line) => process.stdout.write(line + '\n'),
    warn: (line) => process.stderr.write(`${command}: ${line}\n`),
    debug: (line) => {
      if (debugEnabled) process.stderr.write(`${command}: [debug] ${line}\n`);
    },
    progress: (line) => {
      if (isTty) process.stderr.write(`\r\x1b[K${command}: ${line}`);
      else if (debugEnabled) process.stderr.write(`${command}: ${line}\n`);
    },
  };
}

/** Ends a progress line so the next output starts clean. */
export function endProgress(): void {
  if (tty.isatty(2)) process.stderr.write('\r\x1b[K');
}
