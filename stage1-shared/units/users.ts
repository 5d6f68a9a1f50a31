// Resolves an app's user, group and supplementary groups inside its own image (names via the image's
// /etc/passwd and /etc/group, numbers as-is, absolute paths by the owner of that file), and makes sure the
// stage1's own account database knows those numeric ids (systemd refuses User=/Group= ids it cannot look up).
import path from 'node:path';
import { RktError } from '../../common/errors.js';
import { readFileInRoot, statInRoot } from '../../common/in-root.js';
import { HISTORY_FILE_MAX, readPodWrittenFile, replacePodFile } from '../../common/pod-written-file.js';

export interface AppIdentity {
  uid: number;
  gid: number;
  supplementaryGids: number[];
  /** From the image's /etc/passwd when the user has an entry there; exported as USER/LOGNAME/HOME/SHELL. */
  userName?: string;
  home?: string;
  shell?: string;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

function parseColonFile(text: string | undefined): string[][] {
  if (text === undefined) return [];
  return text
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .map((l) => l.split(':'));
}

function parseId(s: string | undefined): number | undefined {
  if (s === undefined || !/^[0-9]+$/.test(s)) return undefined;
  const n = Number(s);
  return n <= 0xfffffffe ? n : undefined;
}

function passwdEntries(text: string | undefined): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const f of parseColonFile(text)) {
    const uid = parseId(f[2]);
    const gid = parseId(f[3]);
    if (f[0] === undefined || uid === undefined || gid === undefined) continue;
    out.push({ name: f[0], uid, gid, home: f[5] ?? '/', shell: f[6] ?? '' });
  }
  return out;
}

function groupEntries(text: string | undefined): { name: string; gid: number }[] {
  const out: { name: string; gid: number }[] = [];
  for (const f of parseColonFile(text)) {
    const gid = parseId(f[2]);
    if (f[0] !== undefined && gid !== undefined) out.push({ name: f[0], gid });
  }
  return out;
}

/** Undo an on-disk uid shift (trees chowned for --private-users) so ids read from the image are the app's. */
function unshift(id: number, shift: number): number {
  return shift > 0 && id >= shift ? id - shift : id;
}

export interface ResolveIdentityInput {
  /** Host path of the app's rootfs. */
  rootfs: string;
  app: string;
  user: string;
  group: string;
  supplementaryGids: readonly number[];
  /** Shift applied to the files on disk (chowned userns trees); 0 otherwise. */
  diskShift?: number;
}

function identityError(app: string, what: string, why: string): RktError {
  return new RktError('STAGE1', `cannot resolve ${what} of app "${app}": ${why}`, {
    hint: 'use a numeric id or a name that exists in the image (its /etc/passwd, /etc/group)',
  });
}

export async function resolveAppIdentity(input: ResolveIdentityInput): Promise<AppIdentity> {
  const shift = input.diskShift ?? 0;
  const passwd = passwdEntries(await readFileInRoot(input.rootfs, '/etc/passwd'));
  const groups = groupEntries(await readFileInRoot(input.rootfs, '/etc/group'));

  let uid: number;
  const user = input.user === '' ? '0' : input.user;
  const numericUid = parseId(user);
  if (numericUid !== undefined) uid = numericUid;
  else if (user.startsWith('/')) {
    const st = await statInRoot(input.rootfs, user);
    if (!st) throw identityError(input.app, `user "${user}"`, 'the file does not exist in the image');
    uid = unshift(st.uid, shift);
  } else {
    const e = passwd.find((p) => p.name === user);
    if (!e) throw identityError(input.app, `user "${user}"`, 'no such user in the image\'s /etc/passwd');
    uid = e.uid;
  }

  let gid: number;
  const group = input.group === '' ? '0' : input.group;
  const numericGid = parseId(group);
  if (numericGid !== undefined) gid = numericGid;
  else if (group.startsWith('/')) {
    const st = await statInRoot(input.rootfs, group);
    if (!st) throw identityError(input.app, `group "${group}"`, 'the file does not exist in the image');
    gid = unshift(st.gid, shift);
  } else {
    const e = groups.find((g) => g.name === group);
    if (!e) throw identityError(input.app, `group "${group}"`, 'no such group in the image\'s /etc/group');
    gid = e.gid;
  }

  const out: AppIdentity = { uid, gid, supplementaryGids: [...new Set(input.supplementaryGids)] };
  const pw = passwd.find((p) => p.uid === uid);
  if (pw) {
    out.userName = pw.name;
    out.home = pw.home === '' ? '/' : pw.home;
    if (pw.shell !== '') out.shell = pw.shell;
  }
  return out;
}

/**
 * Appends `rkt-uid-<n>` / `rkt-gid-<n>` entries to the stage1's /etc/passwd and /etc/group for ids it lacks,
 * so the pod's systemd can run units as the apps' numeric ids. Names never matter: units use numbers.
 */
export async function ensureStage1Accounts(stage1Rootfs: string, uids: Iterable<number>, gids: Iterable<number>): Promise<void> {
  const passwdPath = path.join(stage1Rootfs, 'etc', 'passwd');
  const groupPath = path.join(stage1Rootfs, 'etc', 'group');
  // A running pod's own files (rkt app add): read and replaced as files the pod may have tampered with.
  const passwdText = (await readPodWrittenFile(stage1Rootfs, passwdPath, HISTORY_FILE_MAX))?.text ?? '';
  const groupText = (await readPodWrittenFile(stage1Rootfs, groupPath, HISTORY_FILE_MAX))?.text ?? '';
  const haveUids = new Set(passwdEntries(passwdText).map((p) => p.uid));
  const haveGids = new Set(groupEntries(groupText).map((g) => g.gid));
  const wantGids = new Set(gids);
  const newUsers: string[] = [];
  for (const uid of new Set(uids)) {
    if (haveUids.has(uid)) continue;
    newUsers.push(`rkt-uid-${uid}:x:${uid}:${uid}::/:/usr/sbin/nologin`);
    wantGids.add(uid);
  }
  const newGroups: string[] = [];
  for (const gid of wantGids) if (!haveGids.has(gid)) newGroups.push(`rkt-gid-${gid}:x:${gid}:`);
  const append = (text: string, lines: string[]): string =>
    (text === '' || text.endsWith('\n') ? text : text + '\n') + lines.map((l) => l + '\n').join('');
  if (newUsers.length > 0) await replacePodFile(stage1Rootfs, passwdPath, append(passwdText, newUsers), 0o644);
  if (newGroups.length > 0) await replacePodFile(stage1Rootfs, groupPath, append(groupText, newGroups), 0o644);
}
