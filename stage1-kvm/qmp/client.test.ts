// QmpClient against a real QEMU (paused, no guest): handshake, typed replies, errors, events, close.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { QmpClient } from './client.js';

async function startQemu(): Promise<{ sock: string; done: Promise<number | null>; dir: string }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rkt-qmp-'));
  const sock = path.join(dir, 'qmp.sock');
  const child = spawn('qemu-system-x86_64', [
    '-M', 'microvm,accel=tcg', '-nodefaults', '-no-user-config', '-display', 'none', '-S',
    '-chardev', `socket,id=qmp,path=${sock},server=on,wait=off`, '-mon', 'chardev=qmp,mode=control',
  ], { stdio: 'ignore' });
  const done = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  for (let i = 0; i < 100; i++) {
    try {
      await fs.access(sock);
      return { sock, done, dir };
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  child.kill('SIGKILL');
  throw new Error('qemu did not create its QMP socket');
}

test('qmp: handshake, query-status, unknown command, quit with SHUTDOWN event', async () => {
  const q = await startQemu();
  try {
    const c = await QmpClient.connect(q.sock);
    assert.equal(typeof c.greeting.version.qemu.major, 'number');
    const st = await c.execute('query-status');
    assert.equal(st.running, false);
    assert.equal(st.status, 'prelaunch');
    await assert.rejects(c.executeRaw('no-such-command', undefined), /qmp: no-such-command: CommandNotFound/);
    const shutdown = c.waitForEvent('SHUTDOWN', 10000);
    await c.execute('quit');
    const ev = await shutdown;
    assert.equal(ev.data['reason'], 'host-qmp-quit');
    assert.equal(await c.waitForClose(10000), true);
    assert.equal(await q.done, 0);
  } finally {
    await fs.rm(q.dir, { recursive: true, force: true });
  }
});

test('qmp: connecting to a missing socket fails with a one-line error', async () => {
  await assert.rejects(QmpClient.connect('/nonexistent/qmp.sock', 1000), /^RktError: qmp: cannot connect to \/nonexistent\/qmp.sock/);
});
