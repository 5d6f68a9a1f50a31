// Docker's User rules for OCI images, applied at prepare time against the app's own rootfs (the merged
// layers, already laid out in the pod): "name" or "uid" take the primary group from the image's
// /etc/passwd, "user:group" names the group, and supplementary groups are the image's /etc/group
// memberships of the user. The result is written into the pod manifest as numbers, so both stage1s
// run exactly what prepare decided.
import { RktError } from '../../common/errors.js';
import { readFileInRoot } from '../../common/in-root.js';

export interface OciIdentity {
  uid: number;
  gid: number;
  supplementaryGids: number[];
}

interface Account {
  name: string;
  id: number;
  gid?: number;
  members?: string[];
}

function numeric(s: string | undefined): number | undefined {
  if (s === undefined || !/^[0-9]+$/.test(s)) return undefined;
  const n = Number(s);
  return n <= 0xfffffffe ? n : undefined;
}

function parse(text: string | undefined, kind: 'passwd' | 'group'): Account[] {
  const out: Account[] = [];
  for (const line of (text ?? '').split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const f = line.split(':');
    const id = numeric(f[2]);
    if (!f[0] || id === undefined) continue;
    if (kind === 'passwd') {
      const gid = numeric(f[3]);
      out.push({ name: f[0], id, ...(gid !== undefined ? { gid } : {}) });
    } else {
      out.push({ name: f[0], id, members: (f[3] ?? '').split(',').map((m) => m.trim()).filter((m) => m !== '') });
    }
  }
  return out;
}

export async function resolveOciUser(rootfs: string, user: string, app: string, image: string): Promise<OciIdentity> {
  const [u, g] = user.includes(':') ? [user.slice(0, user.indexOf(':')), user.slice(user.indexOf(':') + 1)] : [user, undefined];
  const passwd = parse(await readFileInRoot(rootfs, '/etc/passwd'), 'passwd');
  const groups = parse(await readFileInRoot(rootfs, '/etc/group'), 'group');
  const missing = (what: string, file: string): RktError =>
    new RktError('IMAGE_INVALID', `app ${app}: the image ${image} runs as ${what}, which is not in its ${file}`, {
      hint: `add it to the image, or run as a number with --user=UID --group=GID`,
    });
  const uidNum = numeric(u);
  const entry = uidNum !== undefined ? passwd.find((p) => p.id === uidNum) : passwd.find((p) => p.name === u);
  if (uidNum === undefined && !entry) throw missing(`user "${u}"`, '/etc/passwd');
  const uid = uidNum ?? entry!.id;
  let gid: number;
  if (g !== undefined && g !== '') {
    const gidNum = numeric(g);
    const ge = gidNum !== undefined ? undefined : groups.find((x) => x.name === g);
    if (gidNum === undefined && !ge) throw missing(`group "${g}"`, '/etc/group');
    gid = gidNum ?? ge!.id;
  } else {
    gid = entry?.gid ?? 0;
  }
  const name = entry?.name;
  const supplementary = name === undefined ? [] : groups.filter((x) => x.members?.includes(name) && x.id !== gid).map((x) => x.id);
  return { uid, gid, supplementaryGids: [...new Set(supplementary)] };
}
