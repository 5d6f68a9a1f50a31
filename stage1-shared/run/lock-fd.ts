// The pod lock stage0 hands the run entrypoint (RKT_LOCK_FD): the pod counts as running while some process
// holds it, so it must reach the long-lived launcher (nspawn, QEMU) and must not reach short-lived helpers.
import { RktError } from '../../common/errors.js';
import { setCloexec } from '../../common/native.js';
import { LOCK_FD_ENV } from '../../common/stage1-contract.js';

export function lockFdFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[LOCK_FD_ENV];
  if (raw === undefined || !/^[0-9]+$/.test(raw) || Number(raw) <= 2) {
    throw new RktError('STAGE1', `${LOCK_FD_ENV} is not set to an fd number`, { hint: 'start pods with rkt run' });
  }
  return Number(raw);
}

/** Runs `f` (which starts helpers: CNI plugins, ip, tc) with the lock close-on-exec, then hands it on again. */
export async function withLockCloexec<T>(fd: number, f: () => Promise<T>): Promise<T> {
  setCloexec(fd, true);
  try {
    return await f();
  } finally {
    setCloexec(fd, false);
  }
}
