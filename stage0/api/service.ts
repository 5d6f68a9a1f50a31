// The v1alpha PublicAPI handlers. Every answer is read from --dir when asked (pods through stage0/pod,
// images through the store): the service keeps no state but the event watcher's last look.
import type { ServerWritableStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import type { ImageManifest } from '../../common/appc/index.js';
import { isRktError } from '../../common/errors.js';
import { APPC_VERSION, RKT_VERSION } from '../../common/version.js';
import { readPodInfo } from '../pod/info.js';
import { listPods } from '../pod/list.js';
import { requirePod } from '../pod/state.js';
import { resolvePodUuid } from '../pod/uuid.js';
import type { Store } from '../store/index.js';
import { invalidArgument, toServiceError } from '../grpc/status-error.js';
import { unary, type Req } from '../grpc/unary.js';
import type { EventWatcher } from './event-watcher.js';
import { eventMatches } from './events.js';
import { imageMatchesAny } from './image-filter.js';
import { imageMessage, imageNames } from './image-view.js';
import { logsSource, pipeJournal } from './logs.js';
import type { ApiEvent, ApiImage, EventFilter } from './messages.js';
import { podMatchesAny } from './pod-filter.js';
import { podMessageFor, readPodManifestBytes } from './pod-view.js';
import { eventFilter, imageFilters, logsRequest, podFilters, stringField } from './requests.js';

/** The API version this service implements (rkt's v1alpha said the same). */
export const API_VERSION = '1.0.0-alpha';

export interface GlobalFlagsMessage {
  dir: string;
  system_config_dir: string;
  local_config_dir: string;
  user_config_dir: string;
  insecure_flags: string;
  trust_keys_from_https: boolean;
}

export interface ApiContext {
  dataDir: string;
  store: Store;
  globalFlags: GlobalFlagsMessage;
  watcher: EventWatcher;
  /** How to end each open stream, for a shutdown that does not wait on clients that never hang up. */
  openStreams: Set<() => void>;
  log: (line: string) => void;
  debug: (line: string) => void;
}

type Stream = ServerWritableStream<Req, unknown>;

function failStream(ctx: ApiContext, name: string, call: Stream, err: unknown): void {
  const e = toServiceError(err);
  ctx.debug(`${name} failed: ${e.details ?? ''}`);
  call.emit('error', e);
}

/** An open stream the service ends at shutdown (`stop`) unless it ended first. */
function track(ctx: ApiContext, call: Stream, stop: () => void): void {
  const entry = (): void => stop();
  ctx.openStreams.add(entry);
  const forget = (): void => { ctx.openStreams.delete(entry); };
  call.on('cancelled', forget);
  call.on('finish', forget);
  call.on('close', forget);
}

async function listImages(ctx: ApiContext, req: Req): Promise<ApiImage[]> {
  const filters = imageFilters(req);
  const detail = req['detail'] === true;
  const infos = (await ctx.store.listImages()).sort((a, b) => a.importTime.getTime() - b.importTime.getTime() || (a.id < b.id ? -1 : 1));
  const out: ApiImage[] = [];
  for (const info of infos) {
    let m: { raw: Buffer; manifest: ImageManifest };
    try {
      m = await ctx.store.readImageManifest(info.id);
    } catch (err) {
      // removed while we listed, or unreadable: list the rest (`rkt image list` would name the broken one)
      if (!(isRktError(err) && err.code === 'IMAGE_NOT_FOUND')) ctx.log(`ListImages: skipping ${info.id}: ${err instanceof Error ? err.message : String(err)}`);
      continue;
    }
    const image = imageMessage(info, m.manifest, detail ? m.raw : undefined);
    if (imageMatchesAny(image, imageNames(info), filters)) out.push(image);
  }
  return out;
}

function listenEvents(ctx: ApiContext, call: Stream): void {
  let filter: EventFilter;
  try {
    filter = eventFilter(call.request);
  } catch (err) {
    failStream(ctx, 'ListenEvents', call, err);
    return;
  }
  const untilMs = filter.until_time > 0 ? filter.until_time * 1000 : undefined;
  if (untilMs !== undefined && untilMs <= Date.now()) {
    call.end();
    return;
  }
  let ended = false;
  const unsubscribe = ctx.watcher.subscribe({
    ready: () => { if (!ended) call.write({ events: [] }); },
    events: (events: readonly ApiEvent[]) => {
      if (ended) return;
      const mine = events.filter((e) => eventMatches(e, filter));
      if (mine.length > 0) call.write({ events: mine });
    },
  });
  const timer = untilMs === undefined ? undefined : setTimeout(() => stop(), untilMs - Date.now());
  const stop = (): void => {
    if (ended) return;
    ended = true;
    if (timer !== undefined) clearTimeout(timer);
    unsubscribe();
    call.end();
  };
  call.on('cancelled', () => {
    ended = true;
    if (timer !== undefined) clearTimeout(timer);
    unsubscribe();
  });
  track(ctx, call, stop);
}

function getLogs(ctx: ApiContext, call: Stream): void {
  const started = async (): Promise<void> => {
    const r = logsRequest(call.request);
    const src = await logsSource(ctx.dataDir, r);
    if (call.cancelled) return;
    ctx.debug(`GetLogs ${src.uuid}: journalctl ${src.args.join(' ')}`);
    const untilMs = r.follow && r.until !== undefined ? r.until * 1000 : undefined;
    const pipe = pipeJournal(call, src, { ...(untilMs !== undefined ? { untilMs } : {}), debug: ctx.debug });
    track(ctx, call, pipe.stop);
  };
  started().catch((err: unknown) => failStream(ctx, 'GetLogs', call, err));
}

export function publicApiService(ctx: ApiContext): UntypedServiceImplementation {
  const u = (name: string, fn: (req: Req) => Promise<Record<string, unknown>>) => unary(name, ctx.debug, fn);
  return {
    GetInfo: u('GetInfo', async () => ({
      info: { rkt_version: RKT_VERSION, appc_version: APPC_VERSION, api_version: API_VERSION, global_flags: ctx.globalFlags },
    })),
    ListPods: u('ListPods', async (req) => {
      const filters = podFilters(req);
      const detail = req['detail'] === true;
      const pods = [];
      for (const p of await listPods(ctx.dataDir, { pid: true })) {
        const pod = await podMessageFor(p, false);
        if (!podMatchesAny(pod, filters)) continue;
        if (detail) pod.manifest = await readPodManifestBytes(p.dir);
        pods.push(pod);
      }
      return { pods };
    }),
    InspectPod: u('InspectPod', async (req) => {
      const id = stringField(req, 'id', 'InspectPod: id');
      if (id === '') throw invalidArgument('InspectPod: id is empty');
      const snap = await requirePod(ctx.dataDir, await resolvePodUuid(ctx.dataDir, id));
      return { pod: await podMessageFor(await readPodInfo(snap, { pid: true }), true) };
    }),
    ListImages: u('ListImages', async (req) => ({ images: await listImages(ctx, req) })),
    InspectImage: u('InspectImage', async (req) => {
      const id = stringField(req, 'id', 'InspectImage: id');
      if (id === '') throw invalidArgument('InspectImage: id is empty');
      const full = await ctx.store.resolveImageId(id);
      const [info, m] = await Promise.all([ctx.store.getImageInfo(full), ctx.store.readImageManifest(full)]);
      return { image: imageMessage(info, m.manifest, m.raw) };
    }),
    ListenEvents: (call: Stream) => listenEvents(ctx, call),
    GetLogs: (call: Stream) => getLogs(ctx, call),
  };
}
