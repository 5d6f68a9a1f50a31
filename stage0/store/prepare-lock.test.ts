// Unit tests for the store's prepare lock: shared holders run together, each mode waits for the other
// and says so once, and a holder killed with SIGKILL leaves nothing behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { storeLayout, prepareLockFile, type StoreLayout } from './layout.js';
import { withPrepareLock } from './prepare-lock.js';

async function tempLayout(): Promise<{ layout: StoreLayout; done: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rkt-prepare-lock-'));
  const layout = storeLayout(dir);
  await mkdir(layout.locks, { recursive: true });
  return { layout, done: () => rm(dir, { recursive: true, force: true }) };
}

/** A hold that lasts until `release()` is called; `entered` resolves once `fn` runs. */
function hold(layout: StoreLayout, mode: 'shared' | 'exclusive', waits: string[]): { entered: Promise<void>; release: () => void; done: Promise<void> } {
  let release!: () => void;
  let entered!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const enteredP = new Promise<void>((r) => (entered = r));
  const done = withPrepareLock(layout, mode, (l) => waits.push(l), async () => {
    entered();
    await gate;
  });
  return { entered: enteredP, release, done };
}

const notYet = async (p: Promise<void>, ms = 150): Promise<boolean> => {
  const r = await Promise.race([p.then(() => 'in' as const), sleep(ms).then(() => 'waiting' as const)]);
  return r === 'waiting';
};

test('shared holders do not wait for each other', async () => {
  const { layout, done } = await tempLayout();
  const waits: string[] = [];
  const a = hold(layout, 'shared', waits);
  await a.entered;
  const b = hold(layout, 'shared', waits);
  await b.entered;
  a.release();
  b.release();
  await Promise.all([a.done, b.done]);
  assert.deepEqual(waits, []);
  await done();
});

test('exclusive waits for a shared holder and says so once; shared then waits for exclusive', async () => {
  const { layout, done } = await tempLayout();
  const prepareWaits: string[] = [];
  const gcWaits: string[] = [];
  const prepare = hold(layout, 'shared', prepareWaits);
  await prepare.entered;
  const gc = hold(layout, 'exclusive', gcWaits);
  assert.ok(await notYet(gc.entered), 'gc must not get in while a prepare holds the lock');
  assert.equal(gcWaits.length, 1);
  assert.match(gcWaits[0] ?? '', /prepare lock .*prepare\.lock: a prepare, run or app add is taking images/);

  prepare.release();
  await prepare.done;
  await gc.entered;
  const late = hold(layout, 'shared', prepareWaits);
  assert.ok(await notYet(late.entered), 'a prepare must not start while gc holds the lock');
  assert.equal(prepareWaits.length, 1);
  assert.match(prepareWaits[0] ?? '', /an "image gc" or "image rm" is removing images/);
  gc.release();
  await gc.done;
  await late.entered;
  late.release();
  await late.done;
  // Store-wide, so never unlinked.
  assert.ok((await stat(prepareLockFile(layout))).isFile());
  await done();
});

test('a holder killed with SIGKILL leaves the lock free at once', async () => {
  const { layout, done } = await tempLayout();
  const mod = path.join(path.dirname(fileURLToPath(import.meta.url)), 'prepare-lock.js');
  const script = `const { withPrepareLock } = await import(${JSON.stringify(mod)});
const { storeLayout } = await import(${JSON.stringify(path.join(path.dirname(mod), 'layout.js'))});
await withPrepareLock(storeLayout(${JSON.stringify(layout.dataDir)}), 'exclusive', () => {}, async () => {
  process.stdout.write('locked\\n');
  await new Promise(() => setInterval(() => {}, 1000));
});`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
  assert.equal(chunk.toString().trim(), 'locked');

  const waits: string[] = [];
  const blocked = hold(layout, 'shared', waits);
  assert.ok(await notYet(blocked.entered));
  child.kill('SIGKILL');
  await once(child, 'exit');
  await blocked.entered;
  blocked.release();
  await blocked.done;
  assert.equal(waits.length, 1);

  const after: string[] = [];
  await withPrepareLock(layout, 'exclusive', (l) => after.push(l), async () => {});
  assert.deepEqual(after, [], 'nothing stale is left to wait for');
  await done();
});
