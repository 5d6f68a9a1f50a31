// Which guest kernel boots the pod: a `kernel` key in stage1.d configuration, else the one in the stage1 image.
import fs from 'node:fs/promises';
import path from 'node:path';
import { RktError, errnoCode } from '../../common/errors.js';

/** Where image-build/customize.sh puts the kernels inside the stage1 rootfs (vmlinux preferred: PVH, no decompression). */
export const IMAGE_KERNELS = ['stage1/kernel/vmlinux', 'stage1/kernel/bzImage'] as const;

async function isFile(p: string): Promise<boolean> {
  try {
    return (await fs.stat(p)).isFile();
  } catch {
    return false;
  }
}

/**
 * Reads `<configDir>/stage1.d/*.json` (sorted; later files win) for {"rktKind":"stage1","rktVersion":"v1","kernel":"/abs/path"}.
 * stage0 passes its --local-config directory to the run entrypoint; that is the only configuration a stage1 sees.
 */
export async function configuredKernel(configDir: string | undefined): Promise<string | undefined> {
  if (configDir === undefined) return undefined;
  const dir = path.join(configDir, 'stage1.d');
  let names: string[];
  try {
    names = (await fs.readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return undefined;
    throw new RktError('CONFIG_INVALID', `cannot read ${dir}: ${String(err)}`, { cause: err });
  }
  let kernel: string | undefined;
  for (const n of names) {
    const file = path.join(dir, n);
    let v: unknown;
    try {
      v = JSON.parse(await fs.readFile(file, 'utf8'));
    } catch (err) {
      throw new RktError('CONFIG_INVALID', `invalid configuration ${file}: not valid JSON`, { cause: err });
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) continue;
    const rec = v as Record<string, unknown>;
    if (rec['rktKind'] !== 'stage1' || !('kernel' in rec)) continue;
    const k = rec['kernel'];
    if (typeof k !== 'string' || !path.isAbsolute(k)) {
      throw new RktError('CONFIG_INVALID', `invalid configuration ${file}: "kernel" must be an absolute path`);
    }
    kernel = k;
  }
  return kernel;
}

/** The kernel to boot: configured (must exist), else the image's. */
export async function resolveKernel(configDir: string | undefined, stage1Rootfs: string): Promise<string> {
  const configured = await configuredKernel(configDir);
  if (configured !== undefined) {
    if (!(await isFile(configured))) {
      throw new RktError('STAGE1', `guest kernel ${configured} (from stage1.d configuration) is not a file`, {
        hint: 'fix the "kernel" key in stage1.d, or remove it to boot the kernel shipped in the stage1 image',
      });
    }
    return configured;
  }
  for (const rel of IMAGE_KERNELS) {
    const p = path.join(stage1Rootfs, rel);
    if (await isFile(p)) return p;
  }
  throw new RktError('STAGE1', `the kvm stage1 image has no guest kernel (${IMAGE_KERNELS.join(' or ')})`, {
    hint: 'rebuild the stage1 images (bash scripts/build-stage1-images.sh) or set "kernel" in stage1.d',
  });
}
