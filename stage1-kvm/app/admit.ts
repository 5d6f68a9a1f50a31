// A sandbox VM's RAM is fixed when it boots (rkt-ts/sandbox/memory): app/add refuses an app whose memory
// limit does not fit in what the other apps' limits leave of it, instead of letting the guest OOM later.
// Apps without a limit are not counted: they share whatever is free, as in an ordinary pod.
import { findIsolator, parseImageManifest, parseResourceQuantity, type PodManifest } from '../../common/appc/index.js';
import fs from 'node:fs/promises';
import { RktError } from '../../common/errors.js';
import { appImageManifestPath } from '../../common/pod-layout.js';
import { SANDBOX_MEMORY_ANNOTATION } from '../vm-config/resources.js';

const MIB = 1024 * 1024;

export interface MemoryAdmission {
  budgetMiB: number;
  /** The new app's memory limit in bytes (its unit's MemoryMax=), undefined when it has none. */
  limitBytes: number | undefined;
  /** The limits of the pod's other apps, in bytes. */
  othersBytes: readonly number[];
}

/** undefined when the app fits; else the one-line refusal, naming both fixes. */
export function memoryRefusal(app: string, a: MemoryAdmission): string | undefined {
  if (a.limitBytes === undefined) return undefined;
  const usedMiB = Math.ceil(a.othersBytes.reduce((s, b) => s + b, 0) / MIB);
  const wantMiB = Math.ceil(a.limitBytes / MIB);
  if (usedMiB + wantMiB <= a.budgetMiB) return undefined;
  const left = Math.max(0, a.budgetMiB - usedMiB);
  return `app "${app}" does not fit in the sandbox VM: its memory limit is ${wantMiB} MiB and ${left} of the apps' ${a.budgetMiB} MiB are left`
    + ` (the other apps' limits take ${usedMiB} MiB); give it a smaller --memory, or start the sandbox with a larger`
    + ` --annotation=${SANDBOX_MEMORY_ANNOTATION}=<quantity>`;
}

/** An app's memory limit as its unit gets it (the pod's isolators, then the app's: the last one wins). */
export function memoryLimitBytes(pod: PodManifest, isolators: Parameters<typeof findIsolator>[0]): number | undefined {
  const limit = findIsolator([...pod.isolators, ...isolators], 'resource/memory')?.limit;
  return limit === undefined ? undefined : parseResourceQuantity(limit).value;
}

/** The limits of every app of `pod` but `app`, read from the pod manifest or, without an app section there, the app's image. */
export async function otherAppLimits(podDir: string, pod: PodManifest, app: string): Promise<number[]> {
  const out: number[] = [];
  for (const a of pod.apps) {
    if (a.name === app) continue;
    let isolators = a.app?.isolators;
    if (isolators === undefined) {
      const text = await fs.readFile(appImageManifestPath(podDir, a.name), 'utf8').catch(() => undefined);
      isolators = text === undefined ? [] : parseImageManifest(text).app?.isolators ?? [];
    }
    const b = memoryLimitBytes(pod, isolators);
    if (b !== undefined) out.push(b);
  }
  return out;
}

export async function admitMemory(podDir: string, budgetMiB: number, pod: PodManifest, app: string, limitBytes: number | undefined): Promise<void> {
  const refusal = memoryRefusal(app, { budgetMiB, limitBytes, othersBytes: limitBytes === undefined ? [] : await otherAppLimits(podDir, pod, app) });
  if (refusal !== undefined) throw new RktError('APP_STATE', refusal);
}
