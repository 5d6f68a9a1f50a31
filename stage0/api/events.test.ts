// The events two looks at the pods and the store imply: each transition, the steps a jump skips, app
// starts and exits with their codes, image imports and removals, and the filter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AppInfo, PodInfo } from '../pod/info.js';
import type { PodStateName } from '../pod/state.js';
import type { PodStateDir } from '../../common/pod-layout.js';
import type { ImageInfo } from '../store/index.js';
import { advance, baseline, eventMatches, type World } from './events.js';
import type { ApiEvent, EventFilter } from './messages.js';

const U = '11111111-2222-4333-8444-555555555555';
const DIR: Record<PodStateName, PodStateDir> = {
  embryo: 'embryo', preparing: 'prepare', 'aborted prepare': 'prepare', prepared: 'prepared', running: 'run', exited: 'run',
  'exited garbage': 'exited-garbage', 'exited deleting': 'exited-garbage', garbage: 'garbage', deleting: 'garbage',
};

function pod(state: PodStateName, apps: Omit<AppInfo, 'imageId'>[] = [], uuid = U): PodInfo {
  return { uuid, state, stateDir: DIR[state], dir: `/d/${uuid}`, apps: apps.map((a) => ({ imageId: 'sha512-1', ...a })), networks: [] };
}
function image(id: string, name: string): ImageInfo {
  return { id, name, labels: {}, importTime: new Date(0), lastUsed: new Date(0), size: 1 };
}
const world = (pods: PodInfo[], images: ImageInfo[] = []): World => ({ pods, images });
const NOW = new Date(1_700_000_000_500);

/** The events of walking through `worlds`, from the first as the starting point: [type, id, from] each. */
function walk(...worlds: World[]): [string, string, string][] {
  let snap = baseline(worlds[0]!);
  const out: [string, string, string][] = [];
  for (const w of worlds.slice(1)) {
    const r = advance(snap, w, NOW);
    snap = r.next;
    out.push(...r.events.map((e): [string, string, string] => [e.type.replace('EVENT_TYPE_', ''), e.id, e.from]));
  }
  return out;
}

test('what is there at the starting point raises nothing; an unchanged world neither', () => {
  const w = world([pod('running', [{ name: 'a', state: 'running' }])], [image('sha512-1', 'x')]);
  assert.deepEqual(walk(w, w, w), []);
});

test('a prepared pod, run, exited, collected, removed: one event per step, app events inside the pod\'s', () => {
  assert.deepEqual(walk(
    world([]),
    world([pod('preparing')]),
    world([pod('prepared', [{ name: 'a', state: 'created' }])]),
    world([pod('running', [{ name: 'a', state: 'running' }])]),
    world([pod('exited', [{ name: 'a', state: 'exited', exitCode: 3 }])]),
    world([pod('exited garbage', [{ name: 'a', state: 'exited', exitCode: 3 }])]),
    world([]),
  ), [
    ['POD_PREPARED', U, ''],
    ['POD_STARTED', U, ''],
    ['APP_STARTED', U, 'a'],
    ['APP_EXITED', U, 'a'],
    ['POD_EXITED', U, ''],
    ['POD_GARBAGE_COLLECTED', U, ''],
  ]);
});

test('a short rkt run seen only once exited: started and exited, in order', () => {
  assert.deepEqual(walk(world([]), world([pod('exited', [{ name: 'a', state: 'exited', exitCode: 0 }])])), [
    ['POD_STARTED', U, ''], ['APP_STARTED', U, 'a'], ['APP_EXITED', U, 'a'], ['POD_EXITED', U, ''],
  ]);
});

test('a running pod that is gone at the next look exited and was collected', () => {
  assert.deepEqual(walk(world([pod('running')]), world([])), [['POD_EXITED', U, ''], ['POD_GARBAGE_COLLECTED', U, '']]);
});

test('a prepared pod removed: collected, not exited; an aborted prepare is reported as such', () => {
  assert.deepEqual(walk(world([pod('prepared')]), world([pod('garbage')]), world([])), [['POD_GARBAGE_COLLECTED', U, '']]);
  assert.deepEqual(walk(world([pod('preparing')]), world([pod('aborted prepare')])), [['POD_PREPARE_ABORTED', U, '']]);
});

test('APP_EXITED carries the exit code when there is one; an app of a mutable pod starts on its own', () => {
  const r = advance(baseline(world([pod('running', [{ name: 'a', state: 'running' }])])), world([pod('running', [{ name: 'a', state: 'exited', exitCode: 7 }])]), NOW);
  assert.deepEqual(r.events, [{ type: 'EVENT_TYPE_APP_EXITED', id: U, from: 'a', time: '1700000000', data: [{ key: 'exit_code', value: '7' }] }]);
  assert.deepEqual(walk(
    world([pod('running', [{ name: 'a', state: 'created' }])]),
    world([pod('running', [{ name: 'a', state: 'created' }, { name: 'b', state: 'running' }])]),
  ), [['APP_STARTED', U, 'b']]);
});

test('images imported and removed, named by the name they had', () => {
  assert.deepEqual(walk(world([], [image('sha512-1', 'one')]), world([], [image('sha512-2', 'two')])), [
    ['IMAGE_IMPORTED', 'sha512-2', 'two'], ['IMAGE_REMOVED', 'sha512-1', 'one'],
  ]);
});

test('the filter: types, ids and names any of, times within bounds', () => {
  const e: ApiEvent = { type: 'EVENT_TYPE_POD_PREPARED', id: U, from: '', time: '100', data: [] };
  const f = (over: Partial<EventFilter>): EventFilter => ({ types: [], ids: [], names: [], since_time: 0, until_time: 0, ...over });
  assert.equal(eventMatches(e, f({})), true);
  assert.equal(eventMatches(e, f({ types: ['EVENT_TYPE_POD_EXITED', 'EVENT_TYPE_POD_PREPARED'] })), true);
  assert.equal(eventMatches(e, f({ types: ['EVENT_TYPE_POD_EXITED'] })), false);
  assert.equal(eventMatches(e, f({ ids: ['x'] })), false);
  assert.equal(eventMatches(e, f({ names: ['web'] })), false);
  assert.equal(eventMatches(e, f({ since_time: 100, until_time: 100 })), true);
  assert.equal(eventMatches(e, f({ since_time: 101 })), false);
  assert.equal(eventMatches(e, f({ until_time: 99 })), false);
});
