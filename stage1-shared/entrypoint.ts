// The frame of every stage1 entrypoint, both flavors: an error becomes one "stage1 <entrypoint>: <message>
// (<hint>)" line on stderr (the cause tree too with --debug) and exit 254 (usage errors 2), like rkt's own;
// success returns the entrypoint's status. Entrypoints are programs, so this is where they end.
import fs from 'node:fs';
import { formatErrorLine, formatErrorTree, isRktError } from '../common/errors.js';

export function runEntrypoint(name: string, fn: (argv: string[]) => Promise<number>): void {
  const argv = process.argv.slice(2);
  const debug = argv.includes('--debug');
  fn(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      // fs.writeSync keeps stderr's file description blocking (it may be shared with the pod later).
      fs.writeSync(2, `stage1 ${name}: ${formatErrorLine(err)}\n`);
      if (debug) fs.writeSync(2, formatErrorTree(err) + '\n');
      process.exitCode = isRktError(err) ? err.exitCode : 254;
    },
  );
}

/** A --debug line; synchronous for the same reason as above. */
export function debugLog(enabled: boolean, msg: string): void {
  if (enabled) fs.writeSync(2, `stage1: ${msg}\n`);
}
