// --private-users: shifts ownership into the pod's uid/gid range, as nspawn's --private-users-ownership=chown
// does. kvm shifts the whole stage1 tree at run (QEMU, root of a user namespace mapped onto that range, then
// serves the guest its files with their original owners); app/add shifts an added app's copied tree and the
// files it writes wherever the pod sees the range's ids on disk (kvm, nspawn chown and overlay-idmap).
import fs from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../../common/errors.js';

export interface IdRange {
  shift: number;
  count: number;
}

/** The host id for a tree id: ids already inside the range stay (re-runs are idempotent). */
export function shiftId(id: number, r: IdRange): number {
  if (id >= r.shift && id < r.shift + r.count) return id;
  if (id < r.count) return id + r.shift;
  return r.shift + r.count - 2; // an id the range cannot express becomes the range's "nobody" (65534 of 65536)
}

/** Walks `root` without following symlinks (app overlays mounted below it are part of the tree), chowning every entry. */
export async function shiftTree(root: string, r: IdRange): Promise<number> {
  let n = 0;
  const visit = async (p: string): Promise<void> => {
    let st;
    try {
      st = await fs.lstat(p);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return;
      throw err;
    }
    const uid = shiftId(st.uid, r);
    const gid = shiftId(st.gid, r);
    if (uid !== st.uid || gid !== st.gid) {
      await fs.lchown(p, uid, gid);
      // chown clears set-id bits on regular files; restore them (the guest's su, ping, ... keep working)
      if (st.isFile() && (st.mode & 0o6000) !== 0) await fs.chmod(p, st.mode & 0o7777);
      n++;
    }
    if (st.isDirectory()) {
      const names = await fs.readdir(p);
      for (const name of names) await visit(path.join(p, name));
    }
  };
  await visit(root);
  return n;
}
