// The shared poller: ready once it has a starting point, changes to every subscriber, no looks while
// nobody listens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ImageInfo } from '../store/index.js';
import { EventWatcher } from './event-watcher.js';
import type { World } from './events.js';
import type { ApiEvent } from './messages.js';

const img = (id: string): ImageInfo => ({ id, name: id, labels: {}, importTime: new Date(0), lastUsed: new Date(0), size: 1 });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('ready after the first look, then the changes, to each subscriber; stops looking when the last leaves', async () => {
  let world: World = { pods: [], images: [] };
  let looks = 0;
  const w = new EventWatcher(async () => { looks++; return world; }, () => undefined, 10);
  const seen: string[][] = [[], []];
  const ready: boolean[] = [false, false];
  const subscriber = (i: number) => ({
    ready: () => { ready[i] = true; },
    events: (es: readonly ApiEvent[]) => { seen[i]!.push(...es.map((e) => `${e.type} ${e.id}`)); },
  });
  const leave0 = w.subscribe(subscriber(0));
  await sleep(5);
  assert.equal(ready[0], true);
  const leave1 = w.subscribe(subscriber(1));
  await sleep(5);
  assert.equal(ready[1], true, 'a later subscriber is ready at once');
  world = { pods: [], images: [img('sha512-1')] };
  await sleep(40);
  assert.deepEqual(seen, [['EVENT_TYPE_IMAGE_IMPORTED sha512-1'], ['EVENT_TYPE_IMAGE_IMPORTED sha512-1']]);
  leave0();
  leave1();
  const after = looks;
  await sleep(40);
  assert.ok(looks <= after + 1, `no looks while nobody listens (${looks - after} more)`);
});

test('a failed look is logged once and retried; the stream survives', async () => {
  let fail = true;
  const logs: string[] = [];
  const w = new EventWatcher(async () => { if (fail) throw new Error('EIO'); return { pods: [], images: [] }; }, (l) => logs.push(l), 10);
  let ready = false;
  const leave = w.subscribe({ ready: () => { ready = true; }, events: () => undefined });
  await sleep(35);
  assert.equal(ready, false);
  fail = false;
  await sleep(25);
  assert.equal(ready, true);
  assert.deepEqual(logs, ['watching pods and images: EIO']);
  leave();
});
