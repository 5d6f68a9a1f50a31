// A stack of unpacked layer trees (overlayfs lower layers: whiteouts are 0:0 character devices, opaque
// directories carry trusted.overlay.opaque) merged into one plain tree, for --no-overlay pods and
// `rkt image render/extract`.
//
// The merge is done by the kernel: the stack is mounted as a read-only overlay (lower layers only, no
// upper) and its merged view copied out with `cp -a`. So whiteouts, opaque directories and the rest of
// overlayfs's semantics are exactly what an overlay pod sees, with no second implementation of them
// here to drift from the kernel's.
//
// Size of a mount: the legacy mount(2) call (which util-linux before 2.39 uses, and which stage0's
// overlay mounts go through) copies one page of options, so "lowerdir=..." and every other option must
// fit in PAGE_SIZE - 1 = 4095 bytes; overlayfs also stops at 500 lower layers. A stack that does not
// fit is flattened bottom-up in chunks: the largest bottom run that fits is merged into a scratch tree,
// which then stands in for that run (a plain tree under the remaining layers gives the same view,
// since whiteouts and opaque markers only ever act on what is below them).
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { RktError, describeCause, errnoCode } from '../../../common/errors.js';
import { lowerdirOption, maxLowerDirsPerMount, MOUNT_OPTIONS_MAX } from '../../../common/overlay-options.js';

const execFileP = promisify(execFile);

export interface FlattenOptions {
  /** Where scratch directories (mount points, partial merges) go; by default next to `dest`. */
  readonly scratchParent?: string;
  /** Tests lower this to exercise chunking with short paths. */
  readonly optionsMax?: number;
}

/**
 * Writes into `dest` (absent or empty) the merged view of `lowerDirs` (upper first) as a plain tree:
 * no whiteout devices, no overlay xattrs. The root's owner, mode and times are the top layer's.
 */
export async function flattenLayers(lowerDirs: readonly string[], dest: string, opts: FlattenOptions = {}): Promise<void> {
  await mkdir(dest, { recursive: true, mode: 0o755 });
  if ((await readdir(dest)).length > 0) {
    throw new RktError('INTERNAL', `cannot flatten layers into ${dest}: it is not empty`);
  }
  if (lowerDirs.length === 0) return;
  const optionsMax = opts.optionsMax ?? MOUNT_OPTIONS_MAX;
  const scratch = await mkdtemp(path.join(opts.scratchParent ?? path.dirname(path.resolve(dest)), '.flatten-'));
  try {
    const empty = path.join(scratch, 'empty');
    await mkdir(empty, { mode: 0o755 });
    let stack = [...lowerDirs];
    let chunk = 0;
    for (;;) {
      // One layer alone needs a partner: a read-only overlay wants at least two lower layers.
      const whole = stack.length === 1 ? [...stack, empty] : stack;
      if (maxLowerDirsPerMount(whole, 0, optionsMax) >= whole.length) {
        await mergeInto(whole, dest, scratch);
        return;
      }
      const fromBottom = maxLowerDirsPerMount([...stack].reverse(), 0, optionsMax);
      if (fromBottom < 2) {
        throw new RktError('STORE', `cannot flatten layers: their paths are too long for an overlay mount (${stack[stack.length - 1] ?? ''})`, {
          hint: 'use a shorter --dir',
        });
      }
      const run = stack.slice(stack.length - fromBottom);
      const out = path.join(scratch, `merged-${chunk++}`);
      await mkdir(out, { mode: 0o755 });
      await mergeInto(run, out, scratch);
      // Earlier scratch merges inside this run are no longer needed.
      for (const r of run) if (path.dirname(r) === scratch) await rm(r, { recursive: true, force: true });
      stack = [...stack.slice(0, stack.length - fromBottom), out];
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function mergeInto(lowers: readonly string[], out: string, scratch: string): Promise<void> {
  const mnt = await mkdtemp(path.join(scratch, 'mnt-'));
  await run('mount', ['-t', 'overlay', 'overlay', '-o', lowerdirOption(lowers), mnt], 'mount the layer stack');
  try {
    await copyMerged(mnt, out);
  } finally {
    try {
      await run('umount', [mnt], 'unmount the layer stack');
    } catch {
      await run('umount', ['-l', mnt], 'unmount the layer stack');
    }
  }
  await rm(mnt, { recursive: true, force: true });
}

/**
 * `cp -a` of the merged view. A directory present in only one layer is not merged by overlayfs, and
 * its readdir is the layer's own, so a whiteout in it is listed, though looking it up finds nothing
 * (it hides a path no lower layer has). cp then reports "cannot stat ... No such file or directory"
 * for exactly those names and copies everything else; only errors of another kind are failures.
 */
async function copyMerged(mnt: string, out: string): Promise<void> {
  try {
    await execFileP('cp', ['-a', '--', `${mnt}/.`, `${out}/`], { maxBuffer: 16 * 1024 * 1024, env: { ...process.env, LC_ALL: 'C' } });
  } catch (err) {
    const stderr = (err as { stderr?: unknown }).stderr;
    const lines = typeof stderr === 'string' ? stderr.split('\n').filter((l) => l !== '') : [];
    const vanished = (l: string): boolean => l.startsWith(`cp: cannot stat '${mnt}/`) && l.endsWith(`': No such file or directory`);
    if (lines.length > 0 && lines.every(vanished)) return;
    throw failure('cp', 'copy the merged layers', err);
  }
}

async function run(cmd: string, args: string[], doing: string): Promise<void> {
  try {
    await execFileP(cmd, args, { maxBuffer: 1024 * 1024 });
  } catch (err) {
    throw failure(cmd, doing, err);
  }
}

function failure(cmd: string, doing: string, err: unknown): RktError {
  const stderr = (err as { stderr?: unknown }).stderr;
  const lines = typeof stderr === 'string' ? stderr.trim().split('\n').filter((l) => !/: cannot stat .*: No such file or directory$/.test(l)) : [];
  const detail = lines.length > 0 ? (lines[lines.length - 1] as string) : errnoCode(err) ?? describeCause(err);
  return new RktError('STORE', `cannot ${doing}: ${cmd} failed: ${detail}`, {
    cause: err,
    hint: cmd === 'mount' ? 'flattening layers needs root and a kernel with overlayfs' : undefined,
  });
}
