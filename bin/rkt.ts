#!/usr/bin/env node
// The rkt executable: the only place that prints a failure and calls process.exit.
import { main, type MainResult } from '../stage0/cli/main.js';
import { RktError, formatErrorLine, formatErrorTree } from '../common/errors.js';

// A reader that went away (`rkt list | head -1`) is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

const result: MainResult = { exitCode: 0, command: 'rkt', debug: process.argv.includes('--debug') };

try {
  const code = await main(process.argv.slice(2), result);
  process.exitCode = code;
} catch (err) {
  if (err instanceof RktError && err.code === 'USAGE' && err.message === '') {
    // commander has printed the usage error already.
    process.exitCode = err.exitCode;
  } else {
    process.stderr.write(`${result.command}: ${formatErrorLine(err)}\n`);
    if (result.debug) process.stderr.write(formatErrorTree(err) + '\n');
    process.exitCode = err instanceof RktError ? err.exitCode : 254;
  }
}
