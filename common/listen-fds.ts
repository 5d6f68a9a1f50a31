// The sd_listen_fds protocol's side every rkt process shares: which descriptors a service manager passed to
// this very process (LISTEN_PID is ours), and keeping them open across the execve chain (rkt -> the stage1's
// run entrypoint -> systemd-nspawn, one pid throughout). Node marks inherited descriptors close-on-exec at
// start-up, so each Node process in the chain clears that flag again before it execs.
import { setCloexec } from './native.js';

/** SD_LISTEN_FDS_START: the first passed descriptor. */
const FIRST_FD = 3;

export function passedSocketFds(env: NodeJS.ProcessEnv, pid: number): { fd: number; name?: string }[] {
  const n = Number(env['LISTEN_FDS'] ?? '0');
  if (!(n > 0) || env['LISTEN_PID'] !== String(pid)) return [];
  const names = (env['LISTEN_FDNAMES'] ?? '').split(':');
  return Array.from({ length: n }, (_, i) => {
    const name = names[i];
    return name !== undefined && name !== '' && name !== 'unknown' ? { fd: FIRST_FD + i, name } : { fd: FIRST_FD + i };
  });
}

/** Lets the passed descriptors survive the next execve; returns how many there are. */
export function keepPassedFdsAcrossExec(): number {
  const fds = passedSocketFds(process.env, process.pid);
  for (const { fd } of fds) setCloexec(fd, false);
  return fds.length;
}
