// Crash-safe file primitives for the store: fsync'd writes via temp+rename, and work dirs tagged with
// their owner process so any later rkt can remove those left behind by a killed one.
import { access, mkdir, open, readFile, readdir, rename, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { errnoCode } from '../../common/errors.js';

/** The kernel's start time of a process (field 22 of /proc/<pid>/stat); unique with the pid. */
function startTimeOf(stat: string): string | undefined {
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  return stat.slice(close + 2).split(' ')[19];
}

let selfTag: string | undefined;
function ownerTag(): string {
  if (selfTag === undefined) {
    const start = startTimeOf(readFileSync('/proc/self/stat', 'utf8')) ?? '0';
    selfTag = `${process.pid}-${start}`;
  }
  return selfTag;
}

/** Whether something is at `p` (any error counts as no). */
export async function pathExists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}

export async function fsyncPath(p: string): Promise<void> {
  const fh = await open(p, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Creates an empty work dir in `tmpRoot`, named after this process. */
export async function makeWorkDir(tmpRoot: string, purpose: string): Promise<string> {
  const dir = path.join(tmpRoot, `${ownerTag()}-${purpose}-${randomBytes(6).toString('hex')}`);
  await mkdir(dir, { mode: 0o700 });
  return dir;
}

/** Writes a file so readers see the old or the new content, never a part: temp file, fsync, rename. */
export async function writeFileAtomic(file: string, data: string | Buffer, mode = 0o644): Promise<void> {
  const tmp = `${file}.tmp-${ownerTag()}-${randomBytes(4).toString('hex')}`;
  const fh = await open(tmp, 'wx', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Moves `target` into the work area (atomic disappearance) and deletes it there. */
export async function removeViaTmp(target: string, tmpRoot: string): Promise<boolean> {
  const grave = path.join(tmpRoot, `${ownerTag()}-rm-${randomBytes(6).toString('hex')}`);
  try {
    await rename(target, grave);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw err;
  }
  await rm(grave, { recursive: true, force: true });
  return true;
}

async function ownerAlive(name: string): Promise<boolean> {
  const m = /^(\d+)-(\d+)-/.exec(name);
  if (!m) return false;
  try {
    const stat = await readFile(`/proc/${m[1]}/stat`, 'utf8');
    return startTimeOf(stat) === m[2];
  } catch {
    return false;
  }
}

/** Removes work dirs and stray temp files whose owning process is gone. Best effort. */
export async function sweepWorkDirs(tmpRoot: string): Promise<number> {
  let names: string[];
  try {
    names = await readdir(tmpRoot);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    if (await ownerAlive(name)) continue;
    await rm(path.join(tmpRoot, name), { recursive: true, force: true }).catch(() => {});
    removed++;
  }
  return removed;
}

/** Removes `<name>.tmp-<pid>-<start>-*` files left in `dir` by dead processes. */
export async function sweepTempFiles(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const i = name.indexOf('.tmp-');
    if (i < 0) continue;
    if (await ownerAlive(name.slice(i + 5))) continue;
    await rm(path.join(dir, name), { force: true }).catch(() => {});
  }
}
