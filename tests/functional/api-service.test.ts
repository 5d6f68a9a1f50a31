// The real `rkt api-service` over TCP, queried by a gRPC client built here from the same .proto: GetInfo,
// images after `rkt fetch`, a pod after `rkt prepare` (stub stage1, nothing runs), the events both raise,
// the error codes of bad requests, a clean exit on SIGTERM, and systemd socket activation (LISTEN_FDS).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { credentials, loadPackageDefinition, status, type Client, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { apiProtoPath } from '../../stage0/api/proto/load.js';
import { PROTO_LOADER_OPTIONS } from '../../stage0/grpc/proto.js';
import { rktBin } from '../harness/aci.js';
import { makePodHarness, type PodHarness } from '../harness/pod.js';
import { makeNspawnHarness, skipReason as nspawnSkip } from './nspawn-helpers.js';

type Msg = Record<string, any>;

interface ApiClient {
  call(rpc: string, req?: Msg): Promise<Msg>;
  stream(rpc: string, req?: Msg): ClientReadableStream<Msg>;
  close(): void;
}

function apiClient(address: string): ApiClient {
  const def = protoLoader.loadSync(apiProtoPath(), PROTO_LOADER_OPTIONS);
  const pkg = loadPackageDefinition(def) as unknown as { v1alpha: { PublicAPI: new (a: string, c: ReturnType<typeof credentials.createInsecure>) => Client } };
  const c = new pkg.v1alpha.PublicAPI(address, credentials.createInsecure()) as unknown as Record<string, (...a: unknown[]) => unknown> & Client;
  return {
    call: (rpc, req = {}) => new Promise((resolve, reject) => {
      c[rpc]!.call(c, req, { deadline: new Date(Date.now() + 20_000) }, (err: ServiceError | null, res: Msg) => (err ? reject(err) : resolve(res)));
    }),
    stream: (rpc, req = {}) => c[rpc]!.call(c, req) as ClientReadableStream<Msg>,
    close: () => c.close(),
  };
}

/** Rejects with the status code and one-line details the service answered. */
async function fails(p: Promise<unknown>, code: status, details: RegExp): Promise<void> {
  await assert.rejects(p, (err: ServiceError) => {
    assert.equal(err.code, code, `code of "${err.details}"`);
    assert.match(err.details, details);
    assert.ok(!err.details.includes('\n'), 'one line');
    return true;
  });
}

interface Service {
  proc: ChildProcess;
  address: string;
  stderr(): string;
  /** SIGTERM; the exit code and how long the exit took. */
  stop(): Promise<{ code: number | null; ms: number }>;
}

function startService(command: string, args: readonly string[], fd3?: number): Promise<Service> {
  const proc = spawn(command, args, { stdio: fd3 === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe', fd3] });
  let err = '';
  proc.stderr!.setEncoding('utf8');
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    proc.stderr!.on('data', (d: string) => {
      err += d;
      const m = /api-service: listening on (\S+)/.exec(err);
      if (m) {
        resolve({
          proc, address: m[1]!.replace(/,$/, ''), stderr: () => err,
          async stop() {
            const t = Date.now();
            proc.kill('SIGTERM');
            const code = await exited;
            return { code, ms: Date.now() - t };
          },
        });
      }
    });
    void exited.then((code) => reject(new Error(`api-service exited ${code} before listening: ${err}`)));
  });
}

/** Collects a stream's messages; `until` resolves once one satisfies the predicate. */
function collect(s: ClientReadableStream<Msg>): { msgs: Msg[]; until(pred: (m: Msg) => boolean, ms: number, what: string): Promise<Msg> } {
  const msgs: Msg[] = [];
  const waiters: { pred: (m: Msg) => boolean; resolve: (m: Msg) => void }[] = [];
  s.on('data', (m: Msg) => {
    msgs.push(m);
    for (const w of [...waiters]) if (w.pred(m)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(m); }
  });
  s.on('error', () => undefined);
  return {
    msgs,
    until(pred, ms, what) {
      const hit = msgs.find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms; got ${JSON.stringify(msgs)}`)), ms);
        waiters.push({ pred, resolve: (m) => { clearTimeout(timer); resolve(m); } });
      });
    },
  };
}

const hasEvent = (type: string, id: string) => (m: Msg): boolean => (m['events'] as Msg[]).some((e) => e['type'] === type && e['id'] === id);

let h: PodHarness;
let svc: Service;
let api: ApiClient;

before(async () => {
  h = await makePodHarness('rkt-api-');
  // port 0: the service says which port it got, so parallel runs never collide
  svc = await startService(process.execPath, [rktBin(), ...h.dirs.globalArgs(), '--insecure-options=image', 'api-service', '--listen=127.0.0.1:0']);
  api = apiClient(svc.address);
});

after(async () => {
  api?.close();
  if (svc?.proc.exitCode === null) svc.proc.kill('SIGKILL');
  await h?.cleanup();
});

test('GetInfo: versions and the global flags the service runs with', async () => {
  const { info } = await api.call('GetInfo');
  assert.match(info.rkt_version, /^1\.30\.0/);
  assert.equal(info.appc_version, '0.8.11');
  assert.equal(info.api_version, '1.0.0-alpha');
  assert.deepEqual(info.global_flags, {
    dir: h.dirs.dir, system_config_dir: h.dirs.systemConfig, local_config_dir: h.dirs.localConfig, user_config_dir: h.dirs.userConfig,
    insecure_flags: 'image', trust_keys_from_https: false,
  });
});

test('fetch and prepare: ListenEvents reports both; images and pods listed, filtered and inspected; bad requests refused', async () => {
  const events = collect(api.stream('ListenEvents', { filter: { types: ['EVENT_TYPE_IMAGE_IMPORTED', 'EVENT_TYPE_POD_PREPARED'] } }));
  await events.until((m) => (m['events'] as Msg[]).length === 0, 10_000, 'first (empty) response');

  const aci = await h.image('hello', ['/bin/echo', 'hi'], { manifestExtra: { annotations: [{ name: 'authors', value: 'tests' }] } });
  const fetched = await h.rkt(['fetch', '--full', aci]);
  assert.equal(fetched.exitCode, 0, fetched.stderr);
  const imageId = fetched.stdout.trim();
  await events.until(hasEvent('EVENT_TYPE_IMAGE_IMPORTED', imageId), 10_000, 'IMAGE_IMPORTED');

  // images
  const { images } = await api.call('ListImages');
  assert.equal(images.length, 1);
  const [img] = images;
  assert.deepEqual([img.id, img.name, img.version, img.base_format], [imageId, 'example.com/hello', '1.0.0', { type: 'IMAGE_TYPE_APPC', version: '0.8.11' }]);
  assert.equal(img.manifest.length, 0, 'no manifest without detail');
  assert.ok(Number(img.size) > 0 && Math.abs(Number(img.import_timestamp) - Date.now() / 1000) < 120);
  assert.deepEqual(img.annotations, [{ key: 'authors', value: 'tests' }]);
  const detailed = (await api.call('ListImages', { detail: true })).images[0];
  assert.equal(JSON.parse(detailed.manifest.toString()).name, 'example.com/hello');
  const ids = async (filter: Msg): Promise<string[]> => ((await api.call('ListImages', { filters: [filter] })).images as Msg[]).map((i) => i['id'] as string);
  assert.deepEqual(await ids({ base_names: ['hello'], labels: [{ key: 'arch', value: 'amd64' }] }), [imageId]);
  assert.deepEqual(await ids({ prefixes: ['example.org/'] }), []);
  assert.deepEqual(await ids({ imported_after: String(Math.floor(Date.now() / 1000) + 60) }), []);
  const inspected = (await api.call('InspectImage', { id: imageId.slice(0, 'sha512-'.length + 16) })).image;
  assert.equal(inspected.id, imageId);
  assert.equal(JSON.parse(inspected.manifest.toString()).acKind, 'ImageManifest');
  await fails(api.call('InspectImage', { id: `sha512-${'0'.repeat(64)}` }), status.NOT_FOUND, /not found/);
  await fails(api.call('InspectImage', { id: '' }), status.INVALID_ARGUMENT, /^InspectImage: id is empty$/);

  // a prepared pod
  const prep = await h.rkt(['prepare', '--quiet', ...h.stage1Flags(), imageId, '--user-label=tier=front']);
  assert.equal(prep.exitCode, 0, prep.stderr);
  const uuid = prep.stdout.trim();
  await events.until(hasEvent('EVENT_TYPE_POD_PREPARED', uuid), 10_000, 'POD_PREPARED');

  const { pods } = await api.call('ListPods');
  assert.equal(pods.length, 1);
  const [pod] = pods;
  assert.deepEqual([pod.id, pod.state, pod.pid, pod.manifest.length], [uuid, 'POD_STATE_PREPARED', -1, 0]);
  assert.deepEqual(pod.apps.map((a: Msg) => [a['name'], a['image']['id'], a['image']['name'], a['state'], a['exit_code']]), [
    ['hello', imageId, 'example.com/hello', 'APP_STATE_UNDEFINED', -1],
  ]);
  assert.deepEqual(pod.apps[0].user_labels, [{ key: 'tier', value: 'front' }]);
  assert.ok(Number(pod.created_at) > 0 && pod.started_at === '0');
  const podIds = async (filter: Msg): Promise<string[]> => ((await api.call('ListPods', { filters: [filter] })).pods as Msg[]).map((p) => p['id'] as string);
  assert.deepEqual(await podIds({ states: ['POD_STATE_PREPARED'], app_names: ['hello'], image_ids: [imageId] }), [uuid]);
  assert.deepEqual(await podIds({ states: ['POD_STATE_RUNNING'] }), []);
  assert.deepEqual(await podIds({ user_labels: [{ key: 'tier', value: 'front' }] }), [uuid], 'an app\'s user label is the pod\'s too');
  assert.deepEqual(await podIds({ user_labels: [{ key: 'tier', value: 'back' }] }), []);
  const withManifest = (await api.call('ListPods', { detail: true })).pods[0];
  assert.equal(JSON.parse(withManifest.manifest.toString()).acKind, 'PodManifest');

  const { pod: one } = await api.call('InspectPod', { id: uuid.slice(0, 8) });
  assert.equal(one.id, uuid);
  assert.equal(JSON.parse(one.manifest.toString()).apps[0].name, 'hello');

  await fails(api.call('InspectPod', { id: '00000000-0000-4000-8000-000000000000' }), status.NOT_FOUND, /^no pod with uuid 00000000-0000-4000-8000-000000000000/);
  await fails(api.call('InspectPod', { id: '' }), status.INVALID_ARGUMENT, /^InspectPod: id is empty$/);
  await fails(api.call('ListPods', { filters: [{ states: [42] }] }), status.INVALID_ARGUMENT, /^ListPods: filters\[0\]\.states\[0\]: unknown pod state 42/);

  // GetLogs answers its errors as statuses on the stream
  const logsError = (req: Msg): Promise<never> => new Promise((_resolve, reject) => {
    const s = api.stream('GetLogs', req);
    s.on('data', () => undefined);
    s.on('error', reject);
    s.on('end', () => reject(new Error('GetLogs ended without an error')));
  });
  await fails(logsError({ pod_id: uuid, app_name: 'nope' }), status.NOT_FOUND, /has no app "nope" \(apps: hello\)/);
  await fails(logsError({ pod_id: uuid }), status.FAILED_PRECONDITION, /has no journal \(yet\)/);
  await fails(logsError({ pod_id: '00000000-0000-4000-8000-000000000000' }), status.NOT_FOUND, /^no pod with uuid/);
  await fails(logsError({ pod_id: uuid, lines: -3 }), status.INVALID_ARGUMENT, /^GetLogs: lines: -3/);
});

test('SIGTERM with a stream still open: the stream ends, the service exits 0 at once', async () => {
  const s = api.stream('ListenEvents');
  const events = collect(s);
  await events.until(() => true, 10_000, 'first response');
  const ended = new Promise<string>((resolve) => { s.on('end', () => resolve('end')); s.on('error', (e: ServiceError) => resolve(`error ${e.code}`)); });
  const { code, ms } = await svc.stop();
  assert.equal(code, 0, svc.stderr());
  assert.ok(ms < 4000, `exit took ${ms} ms`);
  assert.equal(await ended, 'end');
});

/** A listening socket to hand a child as fd 3, as a .socket unit does, and its fd here. */
async function tcpListener(): Promise<{ server: net.Server; fd: number; port: number }> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // node hands a child only streams or fds: the listening socket's fd it is
  const fd = (server as unknown as { _handle: { fd: number } })._handle.fd;
  return { server, fd, port: (server.address() as net.AddressInfo).port };
}

test('socket activation: the socket systemd passes as fd 3 is served; --listen beside it is refused', async () => {
  // LISTEN_PID must be the service's own pid: the shell sets it to its pid, then execs node in its place
  const activated = (extra: string[]) => ['-c', 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" "$@"', process.execPath, rktBin(), ...h.dirs.globalArgs(), 'api-service', ...extra];
  const listener = await tcpListener();
  const port = listener.port;
  const sa = await startService('/bin/sh', activated([]), listener.fd).finally(() => listener.server.close());
  // the child has its copy of the socket; ours is closed, or it would take some of the connections
  assert.match(sa.stderr(), new RegExp(`listening on 127\\.0\\.0\\.1:${port} \\(1 socket\\(s\\) from systemd\\)`));
  const c = apiClient(`127.0.0.1:${port}`);
  let stopped: { code: number | null } | undefined;
  try {
    assert.equal((await c.call('GetInfo')).info.global_flags.dir, h.dirs.dir);
    assert.ok(Array.isArray((await c.call('ListPods')).pods));
  } finally {
    c.close();
    stopped = await sa.stop();
  }
  assert.equal(stopped.code, 0, sa.stderr());

  const other = await tcpListener();
  const both = spawn('/bin/sh', activated(['--listen=127.0.0.1:0']), { stdio: ['ignore', 'ignore', 'pipe', other.fd] });
  other.server.close();
  let err = '';
  both.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const code = await new Promise<number | null>((resolve) => both.on('exit', resolve));
  assert.equal(code, 2, err);
  assert.match(err, /^api-service: started with 1 socket\(s\) from systemd \(LISTEN_FDS\), and with --listen=127\.0\.0\.1:0/m);
});

test('GetLogs: an nspawn pod\'s real journal, all of it, one app\'s last lines, and following a running pod', { skip: nspawnSkip() }, async () => {
  const n = await makeNspawnHarness();
  const s = await startService(process.execPath, [rktBin(), ...n.dirs.globalArgs(), 'api-service', '--listen=127.0.0.1:0']);
  const c = apiClient(s.address);
  try {
    const img = await n.image('talker', ['/bin/sh', '-c', 'for i in 1 2 3 4 5; do echo "talker-line-$i"; done']);
    const r = await n.runPod(['--net=host', img]);
    assert.equal(r.exitCode, 0, r.stderr);
    const lines = (req: Msg): Promise<string[]> => new Promise((resolve, reject) => {
      const out: string[] = [];
      const st = c.stream('GetLogs', req);
      st.on('data', (m: Msg) => out.push(...(m['lines'] as string[])));
      st.on('end', () => resolve(out));
      st.on('error', reject);
    });
    const all = await lines({ pod_id: r.uuid });
    for (let i = 1; i <= 5; i++) assert.ok(all.some((l) => l.includes(`talker-line-${i}`)), `line ${i} missing from ${JSON.stringify(all)}`);
    const last = await lines({ pod_id: r.uuid, app_name: 'talker', lines: 2 });
    assert.deepEqual(last.map((l) => /talker-line-[0-9]/.exec(l)?.[0]), ['talker-line-4', 'talker-line-5'], JSON.stringify(last));

    // follow: lines the app writes after the stream opened arrive on it
    const ticker = await n.image('ticker', ['/bin/sh', '-c', 'i=0; while true; do i=$((i+1)); echo "tick-$i"; sleep 0.3; done']);
    const pod = await n.startPod(['--net=host', ticker]);
    const followed = collect(c.stream('GetLogs', { pod_id: pod.uuid, app_name: 'ticker', follow: true }));
    await followed.until((m) => (m['lines'] as string[]).some((l) => /tick-[5-9]/.test(l)), 60_000, 'a tick from the running pod');
    assert.equal((await n.rkt(['stop', pod.uuid])).exitCode, 0);
    await pod.done;
  } finally {
    c.close();
    await s.stop();
    await n.teardown();
  }
});
