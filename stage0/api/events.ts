// ListenEvents' events, found by comparing two looks at the pods and the store (there is no log of changes
// to read): a pod's state, its apps' states and the set of images. Pure, so the rules below are tested
// without a disk.
//
// A pod can pass several states between two looks (a short `rkt run` goes from nothing to exited): what
// the later state implies happened is reported too, in order, and each pod event at most once per pod.
import type { AppInfo, PodInfo } from '../pod/info.js';
import type { PodStateName } from '../pod/state.js';
import type { ImageInfo } from '../store/index.js';
import { secondsString, type ApiEvent, type EventFilter, type EventType, type KeyValue } from './messages.js';

type Phase = 'prepared' | 'aborted' | 'started' | 'exited' | 'gc';

/** The pod events a state implies, in the order they happened. */
function phasesOf(state: PodStateName): Phase[] {
  switch (state) {
    case 'embryo':
    case 'preparing':
      return [];
    case 'aborted prepare':
      return ['aborted'];
    case 'prepared':
      return ['prepared'];
    case 'running':
      return ['started'];
    case 'exited':
      return ['started', 'exited'];
    case 'exited garbage':
    case 'exited deleting':
      return ['started', 'exited', 'gc'];
    case 'garbage':
    case 'deleting':
      return ['gc'];
  }
}

const PHASE_EVENT: Record<Phase, EventType> = {
  prepared: 'EVENT_TYPE_POD_PREPARED',
  aborted: 'EVENT_TYPE_POD_PREPARE_ABORTED',
  started: 'EVENT_TYPE_POD_STARTED',
  exited: 'EVENT_TYPE_POD_EXITED',
  gc: 'EVENT_TYPE_POD_GARBAGE_COLLECTED',
};

interface AppMark {
  state: AppInfo['state'];
  exitCode?: number;
}

interface PodMark {
  /** The pod events reported (or, at the starting point, already past). */
  seen: Set<Phase>;
  apps: Map<string, AppMark>;
}

export interface Snapshot {
  pods: Map<string, PodMark>;
  /** Image ID -> name. */
  images: Map<string, string>;
}

export interface World {
  pods: readonly PodInfo[];
  images: readonly ImageInfo[];
}

const appMarks = (p: PodInfo): Map<string, AppMark> =>
  new Map(p.apps.map((a) => [a.name, a.exitCode === undefined ? { state: a.state } : { state: a.state, exitCode: a.exitCode }]));

/** The starting point: what is there now raises no event. */
export function baseline(w: World): Snapshot {
  return {
    pods: new Map(w.pods.map((p) => [p.uuid, { seen: new Set(phasesOf(p.state)), apps: appMarks(p) }])),
    images: new Map(w.images.map((i) => [i.id, i.name])),
  };
}

function event(type: EventType, id: string, from: string, time: string, data: KeyValue[] = []): ApiEvent {
  return { type, id, from, time, data };
}

function appEvents(uuid: string, before: Map<string, AppMark>, after: Map<string, AppMark>, time: string): ApiEvent[] {
  const out: ApiEvent[] = [];
  for (const [name, a] of after) {
    const was = before.get(name)?.state ?? 'created';
    const ran = was === 'running' || was === 'exited';
    if ((a.state === 'running' || a.state === 'exited') && !ran) out.push(event('EVENT_TYPE_APP_STARTED', uuid, name, time));
    if (a.state === 'exited' && was !== 'exited') {
      out.push(event('EVENT_TYPE_APP_EXITED', uuid, name, time, a.exitCode === undefined ? [] : [{ key: 'exit_code', value: String(a.exitCode) }]));
    }
  }
  return out;
}

/** Pod events that precede the apps' (started) and follow them (exited, collected). */
const BEFORE_APPS: ReadonlySet<Phase> = new Set(['prepared', 'aborted', 'started']);

/** The events between `prev` and the world now, and the snapshot to compare the next look with. */
export function advance(prev: Snapshot, w: World, now: Date): { next: Snapshot; events: ApiEvent[] } {
  const time = secondsString(now);
  const events: ApiEvent[] = [];
  const pods = new Map<string, PodMark>();
  for (const p of w.pods) {
    const old = prev.pods.get(p.uuid);
    const seen = new Set(old?.seen ?? []);
    const fresh = phasesOf(p.state).filter((ph) => !seen.has(ph));
    for (const ph of fresh) seen.add(ph);
    const data = [{ key: 'state', value: p.state }];
    const apps = appMarks(p);
    for (const ph of fresh) if (BEFORE_APPS.has(ph)) events.push(event(PHASE_EVENT[ph], p.uuid, '', time, data));
    events.push(...appEvents(p.uuid, old?.apps ?? new Map(), apps, time));
    for (const ph of fresh) if (!BEFORE_APPS.has(ph)) events.push(event(PHASE_EVENT[ph], p.uuid, '', time, data));
    pods.set(p.uuid, { seen, apps });
  }
  for (const [uuid, old] of prev.pods) {
    if (pods.has(uuid) || old.seen.has('gc')) continue;
    // removed between two looks: a pod that was running exited first
    if (old.seen.has('started') && !old.seen.has('exited')) events.push(event('EVENT_TYPE_POD_EXITED', uuid, '', time));
    events.push(event('EVENT_TYPE_POD_GARBAGE_COLLECTED', uuid, '', time));
  }
  const images = new Map(w.images.map((i) => [i.id, i.name]));
  for (const [id, name] of images) if (!prev.images.has(id)) events.push(event('EVENT_TYPE_IMAGE_IMPORTED', id, name, time));
  for (const [id, name] of prev.images) if (!images.has(id)) events.push(event('EVENT_TYPE_IMAGE_REMOVED', id, name, time));
  return { next: { pods, images }, events };
}

export function eventMatches(e: ApiEvent, f: EventFilter): boolean {
  if (f.types.length > 0 && !f.types.includes(e.type)) return false;
  if (f.ids.length > 0 && !f.ids.includes(e.id)) return false;
  if (f.names.length > 0 && !f.names.includes(e.from)) return false;
  const t = Number(e.time);
  if (f.since_time > 0 && t < f.since_time) return false;
  if (f.until_time > 0 && t > f.until_time) return false;
  return true;
}
