// An OCI image's StopSignal (carried by stage0 as an image manifest annotation) as the app unit's
// KillSignal=: the signal systemd sends the app's processes when the pod is stopped.
import os from 'node:os';
import type { ImageManifest } from '../../common/appc/index.js';
import { RktError } from '../../common/errors.js';

export const STOP_SIGNAL_ANNOTATION = 'rkt-ts/oci/stop-signal';

// Linux's real-time range as the C library exposes it (glibc reserves 32 and 33), which is also what
// systemd and Docker mean by SIGRTMIN/SIGRTMAX.
const SIGRTMIN = 34;
const SIGRTMAX = 64;

/**
 * A signal as an OCI config writes it (Docker's spelling: any case, "SIG" optional, RTMIN+n / RTMAX-n, or a
 * number) to its Linux number; undefined when systemd could not send it.
 */
export function parseSignal(raw: string): number | undefined {
  const v = raw.trim();
  if (/^[0-9]+$/.test(v)) {
    const n = Number(v);
    return n >= 1 && n <= SIGRTMAX ? n : undefined;
  }
  const name = v.toUpperCase().replace(/^SIG/, '');
  const rt = /^RT(MIN|MAX)(?:([+-])([0-9]{1,2}))?$/.exec(name);
  if (rt) {
    const [, which, sign, off] = rt;
    if (sign !== undefined && sign !== (which === 'MIN' ? '+' : '-')) return undefined;
    const n = which === 'MIN' ? SIGRTMIN + Number(off ?? 0) : SIGRTMAX - Number(off ?? 0);
    return n >= SIGRTMIN && n <= SIGRTMAX ? n : undefined;
  }
  if (!/^[A-Z0-9]+$/.test(name)) return undefined;
  // the host's table: the stage1s run on Linux, and a KVM guest shares the host's architecture
  const signals = os.constants.signals as Readonly<Record<string, number | undefined>>;
  const n = signals[`SIG${name}`];
  return n !== undefined && n >= 1 && n < SIGRTMIN ? n : undefined;
}

/** The app's stop signal from its image, or undefined when the image names none. */
export function appStopSignal(app: string, image: ImageManifest): number | undefined {
  const raw = image.annotations.find((a) => a.name === STOP_SIGNAL_ANNOTATION)?.value;
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = parseSignal(raw);
  if (n === undefined) {
    throw new RktError('POD_INVALID',
      `app "${app}": invalid stop signal ${JSON.stringify(raw)} in its image (${STOP_SIGNAL_ANNOTATION}): expected a name such as SIGINT or SIGRTMIN+3, or a number from 1 to 64`);
  }
  return n;
}
