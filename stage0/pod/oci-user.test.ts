import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { resolveOciUser } from './oci-user.js';

async function root(): Promise<string> {
  const r = await fs.mkdtemp(path.join(os.tmpdir(), 'oci-user-'));
  await fs.mkdir(path.join(r, 'etc'));
  await fs.writeFile(path.join(r, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\nalice:x:1234:2345::/home/alice:/bin/sh\n');
  await fs.writeFile(path.join(r, 'etc/group'), 'root:x:0:\nstaff:x:2345:\nwheel:x:3456:alice,bob\naudio:x:29:bob\n');
  return r;
}

test('Docker user rules: name, uid, name:group, memberships as supplementary groups', async () => {
  const r = await root();
  try {
    assert.deepEqual(await resolveOciUser(r, 'alice', 'a', 'img'), { uid: 1234, gid: 2345, supplementaryGids: [3456] });
    assert.deepEqual(await resolveOciUser(r, '1234', 'a', 'img'), { uid: 1234, gid: 2345, supplementaryGids: [3456] });
    assert.deepEqual(await resolveOciUser(r, 'alice:wheel', 'a', 'img'), { uid: 1234, gid: 3456, supplementaryGids: [] });
    assert.deepEqual(await resolveOciUser(r, '4000:29', 'a', 'img'), { uid: 4000, gid: 29, supplementaryGids: [] });
    assert.deepEqual(await resolveOciUser(r, '4000', 'a', 'img'), { uid: 4000, gid: 0, supplementaryGids: [] });
    await assert.rejects(resolveOciUser(r, 'mallory', 'a', 'img'), /runs as user "mallory", which is not in its \/etc\/passwd/);
    await assert.rejects(resolveOciUser(r, 'alice:nogroup', 'a', 'img'), /group "nogroup", which is not in its \/etc\/group/);
  } finally {
    await fs.rm(r, { recursive: true, force: true });
  }
});

test('an /etc/passwd that is a symlink out of the image is not followed', async () => {
  const r = await root();
  try {
    await fs.rm(path.join(r, 'etc/passwd'));
    await fs.symlink('/etc/passwd', path.join(r, 'etc/passwd'));
    // resolved inside the root, the link points at itself: the host's file (which has root) is never read
    await assert.rejects(resolveOciUser(r, 'root', 'a', 'img'), /runs as user "root", which is not in its \/etc\/passwd/);
  } finally {
    await fs.rm(r, { recursive: true, force: true });
  }
});
