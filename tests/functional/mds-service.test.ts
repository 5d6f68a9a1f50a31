// The real `rkt metadata-service`: a fake pod registered through the stage0 client, every endpoint queried over
// HTTP from 127.0.0.1 (exact status, content type, body), HMAC identity, unregistration and start-up failures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { RktError } from '../../common/errors.js';
import { CONTENT_TYPE_JSON, CONTENT_TYPE_TEXT, mdsSocketPath, readMdsRegistered, registerPod, unregisterPod } from '../../stage0/metadata/index.js';
import { ID_MAIN, ID_SIDE, MAIN_IMAGE, MAIN_MERGED, POD_UUID, SIDE_IMAGE, podManifest } from '../../stage0/metadata/testdata.js';
import { runRkt, tempRktDirs, type RktDirs } from '../harness/aci.js';
import { httpRequest, makeFakePodDir, startService, type ServiceProcess } from './mds-helpers.js';

const UUID2 = '11111111-2222-4333-8444-555555555555';

async function withService(fn: (dirs: RktDirs, svc: ServiceProcess) => Promise<void>): Promise<void> {
  const dirs = await tempRktDirs('rkt-mds-');
  const svc = await startService(dirs);
  try {
    await fn(dirs, svc);
  } finally {
    const code = await svc.stop();
    await dirs.cleanup();
    assert.equal(code, 0, `metadata-service exit code; stderr:\n${svc.stderr()}`);
  }
}

async function fakePod(dirs: RktDirs, name: string, withAnnotations = true): Promise<string> {
  return makeFakePodDir(path.join(dirs.root, 'scratch', name), podManifest(withAnnotations), {
    main: { manifest: MAIN_IMAGE },
    sidekick: { manifest: SIDE_IMAGE, inStage1Tree: true },
  });
}

test('every endpoint over HTTP: exact status, content type and body', async () => {
  await withService(async (dirs, svc) => {
    const podDir = await fakePod(dirs, 'pod1');
    const reg = await registerPod({ dataDir: dirs.dir, podDir, uuid: POD_UUID });
    assert.match(reg.token, /^[0-9a-f]{64}$/);
    assert.equal(reg.port, svc.port);
    assert.deepEqual(await readMdsRegistered(podDir), { port: svc.port, socket: mdsSocketPath(dirs.dir) });
    assert.equal(((await fs.stat(svc.socket)).mode & 0o777), 0o600, 'registration socket is owner-only');

    const base = `/${reg.token}/acMetadata/v1`;
    const expect: [string, number, string, string][] = [
      ['/pod/manifest', 200, CONTENT_TYPE_JSON, JSON.stringify(podManifest())],
      ['/pod/uuid', 200, CONTENT_TYPE_TEXT, POD_UUID],
      ['/pod/annotations', 200, CONTENT_TYPE_JSON, JSON.stringify(podManifest()['annotations'])],
      ['/pod/annotations/', 200, CONTENT_TYPE_JSON, JSON.stringify(podManifest()['annotations'])],
      ['/pod/annotations/ip-address', 200, CONTENT_TYPE_TEXT, '10.1.2.3'],
      ['/pod/annotations/example.com/owner', 200, CONTENT_TYPE_TEXT, 'ops'],
      ['/apps/main/annotations', 200, CONTENT_TYPE_JSON, JSON.stringify(MAIN_MERGED)],
      ['/apps/main/annotations/', 200, CONTENT_TYPE_JSON, JSON.stringify(MAIN_MERGED)],
      ['/apps/main/annotations/role', 200, CONTENT_TYPE_TEXT, 'pod-role'],
      ['/apps/main/image/manifest', 200, CONTENT_TYPE_JSON, JSON.stringify(MAIN_IMAGE)],
      ['/apps/main/image/id', 200, CONTENT_TYPE_TEXT, ID_MAIN],
      ['/apps/sidekick/image/manifest', 200, CONTENT_TYPE_JSON, JSON.stringify(SIDE_IMAGE)],
      ['/apps/sidekick/image/id', 200, CONTENT_TYPE_TEXT, ID_SIDE],
      ['/apps/sidekick/annotations', 200, CONTENT_TYPE_JSON, '[]'],
      ['/pod/annotations/missing', 404, CONTENT_TYPE_TEXT, 'pod annotation "missing" not found\n'],
      ['/apps/main/annotations/missing', 404, CONTENT_TYPE_TEXT, 'app annotation "missing" not found\n'],
      ['/apps/ghost/image/id', 404, CONTENT_TYPE_TEXT, 'app "ghost" not found in this pod\n'],
      ['/pod/nothing', 404, CONTENT_TYPE_TEXT, 'no such metadata endpoint\n'],
    ];
    for (const [p, status, type, body] of expect) {
      const r = await httpRequest(svc.port, 'GET', base + p);
      assert.deepEqual(r, { status, contentType: type, body }, p);
    }
    const bad = await httpRequest(svc.port, 'GET', `/${'0'.repeat(64)}/acMetadata/v1/pod/uuid`);
    assert.deepEqual(bad, { status: 401, contentType: CONTENT_TYPE_TEXT, body: 'unknown pod token\n' });
    const noToken = await httpRequest(svc.port, 'GET', '/acMetadata/v1/pod/uuid');
    assert.equal(noToken.status, 401, 'no pod registered 127.0.0.1');
    const wrongMethod = await httpRequest(svc.port, 'DELETE', base + '/pod/manifest');
    assert.equal(wrongMethod.status, 405);
    await svc.waitForStderr(/DELETE \/<token>\/acMetadata\/v1\/pod\/manifest - 405/);
    assert.match(svc.stderr(), /GET \/<token>\/acMetadata\/v1\/pod\/uuid - 200/);
    assert.ok(!svc.stderr().includes(reg.token), 'the request log never shows the token');
  });
});

test('a pod without annotations is served null for /pod/annotations (same as its manifest)', async () => {
  await withService(async (dirs, svc) => {
    const reg = await registerPod({ dataDir: dirs.dir, podDir: await fakePod(dirs, 'bare', false), uuid: POD_UUID });
    const r = await httpRequest(svc.port, 'GET', `/${reg.token}/acMetadata/v1/pod/annotations`);
    assert.deepEqual(r, { status: 200, contentType: CONTENT_TYPE_JSON, body: 'null' });
  });
});

test('hmac identity: sign, verify from another pod, tampering is 403', async () => {
  await withService(async (dirs, svc) => {
    const a = await registerPod({ dataDir: dirs.dir, podDir: await fakePod(dirs, 'a'), uuid: POD_UUID });
    const b = await registerPod({ dataDir: dirs.dir, podDir: await fakePod(dirs, 'b'), uuid: UUID2 });
    const content = 'Old MacDonald Had A Farm';
    const sig = await httpRequest(svc.port, 'POST', `/${a.token}/acMetadata/v1/pod/hmac/sign`, { content });
    assert.equal(sig.status, 200);
    assert.equal(sig.contentType, CONTENT_TYPE_TEXT);
    assert.match(sig.body, /^[A-Za-z0-9+/]{86}==$/);
    const uuid = (await httpRequest(svc.port, 'GET', `/${a.token}/acMetadata/v1/pod/uuid`)).body;
    const verify = (token: string, form: Record<string, string>) => httpRequest(svc.port, 'POST', `/${token}/acMetadata/v1/pod/hmac/verify`, form);
    assert.deepEqual(await verify(a.token, { content, uuid, signature: sig.body }), { status: 200, contentType: CONTENT_TYPE_TEXT, body: '' });
    assert.equal((await verify(b.token, { content, uuid, signature: sig.body })).status, 200, 'another pod verifies it');
    assert.equal((await verify(b.token, { content: content + '.', uuid, signature: sig.body })).status, 403);
    assert.equal((await verify(b.token, { content, uuid: UUID2, signature: sig.body })).status, 403, 'pod b cannot claim it');
    const forged = (await httpRequest(svc.port, 'POST', `/${b.token}/acMetadata/v1/pod/hmac/sign`, { content })).body;
    assert.equal((await verify(a.token, { content, uuid, signature: forged })).status, 403);
    assert.equal((await verify(a.token, { content, uuid, signature: '' })).status, 400);
  });
});

test('a pod registered with an IP is found by source address; unregister makes it unknown', async () => {
  await withService(async (dirs, svc) => {
    const podDir = await fakePod(dirs, 'ip');
    const reg = await registerPod({ dataDir: dirs.dir, podDir, uuid: POD_UUID, ips: ['127.0.0.1'] });
    assert.deepEqual(await httpRequest(svc.port, 'GET', '/acMetadata/v1/pod/uuid'), { status: 200, contentType: CONTENT_TYPE_TEXT, body: POD_UUID });
    assert.equal(await unregisterPod({ dataDir: dirs.dir, podDir, uuid: POD_UUID }), true);
    await assert.rejects(fs.access(path.join(podDir, 'mds-registered')), 'marker removed');
    assert.equal((await httpRequest(svc.port, 'GET', `/${reg.token}/acMetadata/v1/pod/uuid`)).status, 401);
    assert.equal((await httpRequest(svc.port, 'GET', '/acMetadata/v1/pod/uuid')).status, 401);
    assert.equal(await unregisterPod({ dataDir: dirs.dir, podDir, uuid: POD_UUID }), false, 'second unregister is a no-op');
    await svc.waitForStderr(new RegExp(`pod ${POD_UUID} unregistered`));
  });
});

test('registering an invalid pod fails with the service\'s reason and writes no marker', async () => {
  await withService(async (dirs) => {
    const podDir = await makeFakePodDir(path.join(dirs.root, 'scratch', 'broken'), podManifest(), { main: { manifest: MAIN_IMAGE } });
    await assert.rejects(registerPod({ dataDir: dirs.dir, podDir, uuid: POD_UUID }), /cannot register pod: cannot read image manifest of app "sidekick"/);
    await fs.mkdir(path.join(podDir, 'appsinfo', 'sidekick'), { recursive: true });
    await fs.writeFile(path.join(podDir, 'appsinfo', 'sidekick', 'manifest'), JSON.stringify({ acKind: 'ImageManifest' }));
    await assert.rejects(registerPod({ dataDir: dirs.dir, podDir, uuid: POD_UUID }), /metadata service refused pod .*: app "sidekick": invalid image manifest/);
    assert.equal(await readMdsRegistered(podDir), undefined);
  });
});

test('without a running service: registerPod says how to fix it; unregisterPod only drops the marker', async () => {
  const dirs = await tempRktDirs('rkt-mds-');
  try {
    const podDir = await fakePod(dirs, 'p');
    await assert.rejects(registerPod({ dataDir: dirs.dir, podDir, uuid: POD_UUID }), (err: unknown) => {
      assert.ok(err instanceof RktError);
      assert.equal(err.code, 'MDS');
      assert.match(err.message, /^cannot reach the metadata service at .*metadata-svc\.sock: ENOENT$/);
      assert.match(err.hint ?? '', /start "rkt metadata-service"/);
      return true;
    });
    await fs.writeFile(path.join(podDir, 'mds-registered'), JSON.stringify({ port: 18112, socket: mdsSocketPath(dirs.dir) }));
    assert.equal(await unregisterPod({ dataDir: dirs.dir, podDir, uuid: POD_UUID }), false);
    assert.equal(await readMdsRegistered(podDir), undefined);
  } finally {
    await dirs.cleanup();
  }
});

test('start-up failures: port taken, second instance on the same dir; SIGTERM exits 0 and removes the socket', async () => {
  const dirs = await tempRktDirs('rkt-mds-');
  const blocker = net.createServer();
  try {
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as net.AddressInfo).port;
    const r = await runRkt(['metadata-service', `--listen-port=${taken}`, '--listen-address=127.0.0.1'], { dirs, timeoutMs: 30_000 });
    assert.equal(r.exitCode, 254, r.stderr);
    assert.match(r.stderr, new RegExp(`^metadata-service: cannot listen on 127\\.0\\.0\\.1:${taken}: address already in use \\(.*--listen-port\\)\\n$`));
    await assert.rejects(fs.access(mdsSocketPath(dirs.dir)), 'no socket left behind');

    const svc = await startService(dirs);
    const second = await runRkt(['metadata-service', '--listen-port=0', '--listen-address=127.0.0.1'], { dirs, timeoutMs: 30_000 });
    assert.equal(second.exitCode, 254, second.stderr);
    assert.match(second.stderr, /metadata service already running: .*metadata-svc\.sock accepts connections/);
    assert.equal(await svc.stop(), 0, svc.stderr());
    await assert.rejects(fs.access(mdsSocketPath(dirs.dir)), 'socket removed on exit');

    const usage = await runRkt(['metadata-service', '--listen-port=99999'], { dirs });
    assert.equal(usage.exitCode, 2, usage.stderr);
    assert.match(usage.stderr, /invalid --listen-port "99999"/);
  } finally {
    blocker.close();
    await dirs.cleanup();
  }
});

test('a stale socket from a killed instance is replaced', async () => {
  const dirs = await tempRktDirs('rkt-mds-');
  try {
    const first = await startService(dirs);
    first.proc.kill('SIGKILL');
    await first.proc;
    assert.ok((await fs.lstat(mdsSocketPath(dirs.dir))).isSocket(), 'a killed instance leaves its socket');
    const svc = await startService(dirs);
    const reg = await registerPod({ dataDir: dirs.dir, podDir: await fakePod(dirs, 's'), uuid: POD_UUID });
    assert.equal((await httpRequest(svc.port, 'GET', `/${reg.token}/acMetadata/v1/pod/uuid`)).body, POD_UUID);
    assert.equal(await svc.stop(), 0);
  } finally {
    await dirs.cleanup();
  }
});
