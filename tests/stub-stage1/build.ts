// Packs tests/stub-stage1/ into a stage1 ACI (manifest + rootfs/stub/{run,enter,stop,gc,apps.cjs}) with tar.
import { execa } from 'execa';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist/tests/stub-stage1/build.js -> <repo>/tests/stub-stage1 (the sources, not compiled). */
export function stubSourceDir(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../tests/stub-stage1');
}

export interface StubOptions {
  /** Replaces the interface-version annotation (undefined keeps "5"; null removes it). */
  interfaceVersion?: string | null;
  /** Entrypoints to leave out of the manifest. */
  omit?: ('run' | 'enter' | 'stop' | 'gc')[];
}

/** Builds the stub stage1 ACI at `out` (work files under `workDir`). */
export async function buildStubStage1(workDir: string, out: string, opts: StubOptions = {}): Promise<string> {
  const src = stubSourceDir();
  const dir = await fs.mkdtemp(path.join(workDir, 'stub-stage1-'));
  const stub = path.join(dir, 'rootfs', 'stub');
  await fs.mkdir(stub, { recursive: true });
  for (const f of ['run', 'enter', 'stop', 'gc', 'apps.cjs']) {
    await fs.copyFile(path.join(src, f), path.join(stub, f));
    await fs.chmod(path.join(stub, f), 0o755);
  }
  const manifest = JSON.parse(await fs.readFile(path.join(src, 'manifest.json'), 'utf8')) as {
    annotations: { name: string; value: string }[];
  };
  manifest.annotations = manifest.annotations.filter((a) => {
    const ep = a.name.replace('coreos.com/rkt/stage1/', '');
    if ((opts.omit as string[] | undefined)?.includes(ep)) return false;
    if (ep === 'interface-version' && opts.interfaceVersion === null) return false;
    return true;
  });
  if (typeof opts.interfaceVersion === 'string') {
    for (const a of manifest.annotations) if (a.name.endsWith('/interface-version')) a.value = opts.interfaceVersion;
  }
  await fs.writeFile(path.join(dir, 'manifest'), JSON.stringify(manifest, null, 2));
  await execa('tar', ['-C', dir, '-cf', out, 'manifest', 'rootfs']);
  await fs.rm(dir, { recursive: true, force: true });
  return out;
}
