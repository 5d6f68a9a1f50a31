// The commands that only root may run, as rkt had them (its ensureSuperuser): those that create, enter or
// destroy pods and their mounts. Everything else (fetch, list, status, image ..., stop) is left to the file
// permissions of the data dir, as in rkt.
import { RktError } from '../../common/errors.js';

export const SUPERUSER_COMMANDS: ReadonlySet<string> = new Set(['run', 'prepare', 'run-prepared', 'enter', 'attach', 'gc', 'rm']);

/** Throws NOT_ROOT (exit 254) when `command` needs root and this process is not effectively uid 0. */
export function ensureSuperuser(command: string, euid: number | undefined = process.geteuid?.()): void {
  if (!SUPERUSER_COMMANDS.has(command) || euid === 0) return;
  throw new RktError('NOT_ROOT', `cannot run as unprivileged user: "rkt ${command}" needs root (effective uid ${euid ?? 'unknown'})`, {
    hint: `run it as root, e.g. "sudo rkt ${command} ..."`,
  });
}
