// Builds the tiny busybox-static ACI the in-VM tests run (unsigned: the tests pass
// --insecure-options=image; signing is covered by the functional tests on the host).
import { execa } from 'execa';
import { chmod, copyFile, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const APPLETS = ['sh', 'echo', 'sleep', 'cat', 'ls', 'true', 'false'];

/** Writes <work>/<slug>.aci whose app runs `exec`; returns the ACI's path. */
export async function buildBusyboxAci(work: string, name: string, exec: string[]): Promise<string> {
  const slug = name.replace(/[^a-z0-9]+/g, '-');
  const dir = join(work, `${slug}-build`);
  const rootfs = join(dir, 'rootfs');
  await mkdir(join(rootfs, 'bin'), { recursive: true });
  await mkdir(join(rootfs, 'tmp'), { recursive: true });
  await chmod(join(rootfs, 'tmp'), 0o1777);
  await copyFile('/bin/busybox', join(rootfs, 'bin', 'busybox'));
  await chmod(join(rootfs, 'bin', 'busybox'), 0o755);
  for (const a of APPLETS) await symlink('busybox', join(rootfs, 'bin', a));
  const manifest = {
    acKind: 'ImageManifest',
    acVersion: '0.8.11',
    name,
    labels: [
      { name: 'version', value: '1.0.0' },
      { name: 'os', value: 'linux' },
      { name: 'arch', value: 'amd64' },
    ],
    app: {
      exec,
      user: '0',
      group: '0',
      environment: [{ name: 'PATH', value: '/bin' }],
    },
  };
  await writeFile(join(dir, 'manifest'), JSON.stringify(manifest));
  const aci = join(work, `${slug}.aci`);
  await execa('tar', ['-C', dir, '--numeric-owner', '-cf', aci, 'manifest', 'rootfs']);
  return aci;
}
