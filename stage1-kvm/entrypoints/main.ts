// Shared frame of the kvm entrypoints: run, turn errors into one "stage1: ..." line and an exit code.
import { isRktError } from '../../common/errors.js';

export function runEntrypoint(name: string, fn: (argv: string[]) => Promise<number>): void {
  fn(process.argv.slice(2)).then(
    (code) => { process.exitCode = code; },
    (err: unknown) => {
      const msg = err instanceof Error ? err.message : String(err);
      process.stderr.write(`stage1 ${name}: ${msg}\n`);
      if (isRktError(err) && err.hint) process.stderr.write(`  hint: ${err.hint}\n`);
      process.exitCode = isRktError(err) ? err.exitCode : 254;
    },
  );
}
