// Changes of app/add and app/rm to files of the pod root, undoable: each file is remembered (content, mode,
// owner, or absence) before it is first touched, so a failure part-way puts the root back as it was.
import fs from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../../common/errors.js';
import { refuseLinksBelow } from '../../common/pod-written-file.js';

type Saved =
  | { kind: 'absent' }
  | { kind: 'file'; content: Buffer; mode: number; uid: number; gid: number }
  | { kind: 'link'; target: string };

export class PodRootChange {
  private readonly saved = new Map<string, Saved>();
  /** Directories made by the change (topmost first), removed again on rollback. */
  private readonly madeDirs: string[] = [];

  constructor(readonly root: string) {}

  /** Remembers `rel` (relative to the root) as it is now; later calls for the same path keep the first state. */
  async remember(rel: string): Promise<void> {
    if (this.saved.has(rel)) return;
    await refuseLinksBelow(this.root, rel);
    const abs = path.join(this.root, rel);
    let st;
    try {
      st = await fs.lstat(abs);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT' && errnoCode(err) !== 'ENOTDIR') throw err;
      this.saved.set(rel, { kind: 'absent' });
      await this.rememberMissingDirs(rel);
      return;
    }
    if (st.isSymbolicLink()) this.saved.set(rel, { kind: 'link', target: await fs.readlink(abs) });
    else this.saved.set(rel, { kind: 'file', content: await fs.readFile(abs), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid });
  }

  private async rememberMissingDirs(rel: string): Promise<void> {
    const missing: string[] = [];
    for (let d = path.dirname(rel); d !== '.' && d !== '/' && d !== ''; d = path.dirname(d)) {
      try {
        await fs.lstat(path.join(this.root, d));
        break;
      } catch {
        missing.unshift(d);
      }
    }
    const top = missing[0];
    if (top !== undefined && !this.madeDirs.includes(top)) this.madeDirs.push(top);
  }

  /** The paths remembered that exist now, and the directories the change made: what a disk shift must cover. */
  touched(): string[] {
    return [...this.madeDirs, ...this.saved.keys()];
  }

  async remove(rel: string): Promise<void> {
    await this.remember(rel);
    await fs.rm(path.join(this.root, rel), { force: true });
  }

  /** Puts every remembered path back; best effort per path, the first error is rethrown at the end. */
  async rollback(): Promise<void> {
    let first: unknown;
    for (const [rel, s] of [...this.saved.entries()].reverse()) {
      const abs = path.join(this.root, rel);
      try {
        await refuseLinksBelow(this.root, rel);
        await fs.rm(abs, { force: true });
        if (s.kind === 'link') await fs.symlink(s.target, abs);
        else if (s.kind === 'file') {
          await fs.mkdir(path.dirname(abs), { recursive: true });
          await fs.writeFile(abs, s.content, { mode: s.mode, flag: 'wx' }); // never through a re-planted symlink
          await fs.chmod(abs, s.mode);
          await fs.lchown(abs, s.uid, s.gid);
        }
      } catch (err) {
        first ??= err;
      }
    }
    for (const d of this.madeDirs) await fs.rm(path.join(this.root, d), { recursive: true, force: true }).catch((err: unknown) => { first ??= err; });
    if (first !== undefined) throw first;
  }
}
