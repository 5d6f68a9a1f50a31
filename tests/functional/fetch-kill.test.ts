// kill -9 in the middle of a fetch: a large image trickles from a slow HTTPS server, rkt is
// SIGKILLed mid-download; the store must stay consistent and a refetch must succeed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openStore } from '../../stage0/store/index.js';
import { makeGpgHome, type GpgHome } from '../harness/gpg.js';
import { makeTestCa, startTestServer, type TestServer } from '../harness/https-server.js';
import { makeFetchEnv, writeTinyAci, type FetchEnv } from '../harness/fetch-env.js';

let gpg: GpgHome;
let srv: TestServer;
let env: FetchEnv;
let aciBytes: Buffer;
let ascBytes: Buffer;

before(async () => {
  gpg = await makeGpgHome();
  const key = await gpg.genKey('Big Images <big@example.com>', 'ed25519');
  env = await makeFetchEnv();
  const ca = await makeTestCa(path.join(env.root, 'ca'));
  env.env['NODE_EXTRA_CA_CERTS'] = ca.caCert;
  const aci = await writeTinyAci(path.join(env.root, 'big.aci'), { name: 'example.com/big', fillerBytes: 8 * 1024 * 1024 });
  await key.sign(aci);
  aciBytes = await fs.readFile(aci);
  ascBytes = await fs.readFile(`${aci}.asc`);
  srv = await startTestServer({ ca });
  const pub = await key.exportPublic(path.join(env.root, 'pub.asc'));
  const t = await env.rkt(['trust', '--skip-fingerprint-review', '--prefix=example.com/big', pub]);
  assert.equal(t.exitCode, 0, t.stderr);
});

after(async () => {
  await srv?.close();
  await gpg?.cleanup();
  await env?.cleanup();
});

/** Waits (bounded) until `cond` holds; the bound only guards against a hang, it is not a check. */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (cond()) return;
    await sleep(100);
  }
  throw new Error(`gave up waiting for ${what}`);
}

test('SIGKILL mid-download leaves no partial image; a refetch succeeds', async () => {
  srv.route('/big.aci', { body: aciBytes, bytesPerSecond: 512 * 1024 });
  srv.route('/big.aci.asc', { body: ascBytes });
  const child = env.spawn(['fetch', srv.url('/big.aci')]);
  let exited = false;
  void child.then(() => (exited = true));
  await until(() => exited || srv.count('/big.aci').bytesSent > 256 * 1024, 'the download to start');
  if (exited) assert.fail(`rkt fetch ended before it could be killed: ${(await child).stderr}`);
  assert.ok(srv.count('/big.aci').bytesSent < aciBytes.length, 'killed before the download finished');
  child.kill('SIGKILL');
  const res = await child;
  assert.equal(res.signal, 'SIGKILL');

  const store = await openStore(env.dir);
  assert.deepEqual(await store.listImages(), [], 'no partial image in the store');
  const never = await env.rkt(['fetch', '--pull-policy=never', srv.url('/big.aci')]);
  assert.equal(never.exitCode, 254);
  assert.match(never.stderr, /not in the store/);

  srv.route('/big.aci', { body: aciBytes });
  const again = await env.rkt(['fetch', srv.url('/big.aci')]);
  assert.equal(again.exitCode, 0, again.stderr);
  const images = await store.listImages();
  assert.equal(images.length, 1);
  assert.equal(images[0]?.name, 'example.com/big');
  // The dead fetch's download directory was swept by the next fetch.
  const leftovers = (await fs.readdir(path.join(env.dir, 'tmp')).catch(() => [] as string[])).filter((n) => n.startsWith('fetch-'));
  assert.deepEqual(leftovers, []);
});
