// How every entrypoint of this stage1 ends: errors become one "stage1: ..." line on stderr and exit 254
// (usage errors 2), like rkt's own; success returns the entrypoint's status. Entrypoints are programs.
import fs from 'node:fs';
import { formatErrorLine, formatErrorTree, isRktError } from '../../common/errors.js';

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

export function debugLog(enabled: boolean, msg: string): void {
  if (enabled) fs.writeSync(2, `stage1: ${msg}\n`);
}
