// Chooses the accelerator: KVM only where it can run a stock guest kernel, TCG otherwise.
// Decided from the filesystem alone (no boot probe), so it is fast and can never hang.
import fs from 'node:fs/promises';
import { constants } from 'node:fs';

export type Accel = 'kvm' | 'tcg';

export interface AccelDecision {
  accel: Accel;
  /** One line for --debug and the pod's flavor record: why this accelerator. */
  reason: string;
}

export interface AccelProbePaths {
  kvmDevice: string;
  /** kvm_pvm answers KVM ioctls but only runs PVM-enabled guests: stock kernels hang after "Decompressing". */
  pvmModule: string;
}

export const DEFAULT_ACCEL_PATHS: AccelProbePaths = { kvmDevice: '/dev/kvm', pvmModule: '/sys/module/kvm_pvm' };

async function exists(p: string): Promise<boolean> {
  try {
    await fs.access(p, constants.F_OK);
    return true;
  } catch {
    return false;
  }
}

/** `forced` comes from RKT_KVM_ACCEL (tests and benchmarks pin it); it is honoured even when unusable. */
export async function chooseAccel(forced?: string, paths: AccelProbePaths = DEFAULT_ACCEL_PATHS): Promise<AccelDecision> {
  if (forced === 'kvm' || forced === 'tcg') return { accel: forced, reason: `forced by RKT_KVM_ACCEL=${forced}` };
  if (await exists(paths.pvmModule)) {
    return { accel: 'tcg', reason: `${paths.kvmDevice} is provided by kvm_pvm, which cannot run a stock guest kernel` };
  }
  try {
    const fh = await fs.open(paths.kvmDevice, constants.O_RDWR);
    await fh.close();
  } catch (err) {
    const why = err instanceof Error && 'code' in err ? String((err as { code: unknown }).code) : 'unusable';
    return { accel: 'tcg', reason: `${paths.kvmDevice} is not usable (${why})` };
  }
  return { accel: 'kvm', reason: `${paths.kvmDevice} is usable` };
}
