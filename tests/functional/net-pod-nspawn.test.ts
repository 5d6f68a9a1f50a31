// CNI networking through the real CLI and the real nspawn stage1: a --net=default pod gets an address in
// 172.16.28.0/24 (shown by rkt status/list), the host reaches its app by --port from 127.0.0.1, gc leaves
// no netns or nft table, and bad --net/--port values fail cleanly. Only loopback and the pods' own netns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { execa } from 'execa';
import { makeNspawnHarness, nspawnStage1Aci, skipReason } from './nspawn-helpers.js';
import { freePort, netSkipReason } from './net-helpers.js';

const skip = skipReason() || (await netSkipReason()) || false;

async function nftTables(): Promise<string> {
  return String((await execa('nft', ['list', 'tables'], { reject: false })).stdout);
}

async function httpGet(url: string): Promise<string> {
  // the app may need a moment after readiness to bind its port
  let last: unknown;
  for (let i = 0; i < 50; i++) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(5000) });
      return await r.text();
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`GET ${url} failed: ${String(last)}`);
}

test('a --net=default pod gets an address, is reachable by --port from 127.0.0.1, and gc removes its network', { skip }, async () => {
  const h = await makeNspawnHarness();
  try {
    const img = await h.image('web', ['/bin/busybox', 'httpd', '-f', '-p', '8080', '-h', '/www'], {
      files: { 'www/index.html': 'hello-from-pod\n' },
      manifestExtra: {
        app: {
          exec: ['/bin/busybox', 'httpd', '-f', '-p', '8080', '-h', '/www'], user: '0', group: '0',
          ports: [{ name: 'http', protocol: 'tcp', port: 8080 }],
        },
      },
    });
    const hostPort = await freePort();
    const pod = await h.startPod(['--net=default', `--port=http:127.0.0.1:${hostPort}`, img]);
    const st = await h.rkt(['status', pod.uuid]);
    assert.match(st.stdout, /networks=default:ip4=172\.16\.28\.[0-9]+/, st.stdout);
    const js = await h.rkt(['status', '--format=json', pod.uuid]);
    assert.match(js.stdout, /172\.16\.28\./, js.stdout);
    const list = await h.rkt(['list', '--no-legend']);
    assert.match(list.stdout, /default:ip4=172\.16\.28\./, list.stdout);
    assert.ok(fs.existsSync(`/run/netns/rkt-${pod.uuid}`));
    assert.match(await nftTables(), new RegExp(`rkt-${pod.uuid}`));

    assert.equal(await httpGet(`http://127.0.0.1:${hostPort}/index.html`), 'hello-from-pod\n');

    await h.rkt(['stop', '--force', pod.uuid]);
    await pod.done;
    const gc = await h.rkt(['gc', '--grace-period=0s']);
    assert.equal(gc.exitCode, 0, gc.stderr);
    assert.ok(!fs.existsSync(`/run/netns/rkt-${pod.uuid}`), 'netns left behind');
    assert.doesNotMatch(await nftTables(), new RegExp(`rkt-${pod.uuid}`));
  } finally {
    await h.teardown();
  }
});

test('an unknown network name fails with a clear error and leaves no netns behind', { skip }, async () => {
  const h = await makeNspawnHarness();
  try {
    const img = await h.image('noop', ['/bin/true']);
    const before = fs.existsSync('/run/netns') ? fs.readdirSync('/run/netns') : [];
    const r = await h.runPod(['--net=no-such-net', img]);
    assert.ok(r.exitCode === 254 || r.exitCode === 2, `exit ${r.exitCode}: ${r.stderr}`);
    assert.match(r.stderr, /no-such-net/);
    const after = fs.existsSync('/run/netns') ? fs.readdirSync('/run/netns') : [];
    assert.deepEqual(after.filter((n) => !before.includes(n)), []);
  } finally {
    await h.teardown();
  }
});

test('--port is refused with --net=host and with an unknown port name', { skip }, async () => {
  const h = await makeNspawnHarness();
  try {
    const img = await h.image('noport', ['/bin/true']);
    const host = await h.runPod(['--net=host', '--port=http:8080', img]);
    assert.equal(host.exitCode, 2, host.stderr);
    assert.match(host.stderr, /--port cannot be used with --net=host/);
    const unknown = await h.runPod(['--net=default', '--port=nosuch:8080', img]);
    assert.equal(unknown.exitCode, 254, unknown.stderr);
    assert.match(unknown.stderr, /no app in the pod has a port with that name/);
  } finally {
    await h.teardown();
  }
});

test('--dns, --dns-search, --dns-opt, --dns-domain and --hosts-entry reach the app\'s /etc/resolv.conf and /etc/hosts', { skip }, async () => {
  const h = await makeNspawnHarness();
  try {
    const img = await h.image('dns', ['/bin/sh', '-c', 'cat /etc/resolv.conf; echo ---; cat /etc/hosts']);
    const r = await h.runPod([
      '--net=default', '--dns=127.0.0.53', '--dns-search=example.test', '--dns-opt=ndots:2', '--dns-domain=pod.test',
      '--hosts-entry=127.0.0.9=other.test', img,
    ]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /nameserver 127\.0\.0\.53/);
    assert.match(r.stdout, /search example\.test/);
    assert.match(r.stdout, /options ndots:2/);
    assert.match(r.stdout, /domain pod\.test/);
    assert.match(r.stdout, /127\.0\.0\.9\s+other\.test/);
  } finally {
    await h.teardown();
  }
});

test('a prepared pod with --port is refused by run-prepared --net=host and stays prepared', { skip }, async () => {
  const h = await makeNspawnHarness();
  try {
    const img = await h.image('prep', ['/bin/true'], {
      manifestExtra: { app: { exec: ['/bin/true'], user: '0', group: '0', ports: [{ name: 'http', protocol: 'tcp', port: 8080 }] } },
    });
    const prep = await h.rkt(['prepare', '--quiet', `--stage1-path=${nspawnStage1Aci()}`, '--port=http:127.0.0.1:18080', img]);
    assert.equal(prep.exitCode, 0, prep.stderr);
    const uuid = prep.stdout.trim();
    const r = await h.rkt(['run-prepared', '--net=host', uuid]);
    assert.equal(r.exitCode, 2, r.stderr);
    assert.match(r.stderr, /--port cannot be used with --net=host/);
    const st = await h.rkt(['status', uuid]);
    assert.match(st.stdout, /state=prepared/);
  } finally {
    await h.teardown();
  }
});

test('--net=none gives the pod loopback only, and the default network is "default"', { skip }, async () => {
  const h = await makeNspawnHarness();
  try {
    const img = await h.image('ifaces', ['/bin/sh', '-c', 'cat /proc/net/dev']);
    const none = await h.runPod(['--net=none', img]);
    assert.equal(none.exitCode, 0, none.stderr);
    const ifaces = [...none.stdout.matchAll(/\b([a-z][a-z0-9]*):\s+[0-9]+\s+[0-9]+/g)].map((m) => m[1]);
    assert.ok(ifaces.includes('lo') && ifaces.length === 1, none.stdout);
    const dflt = await h.runPod([img]);
    assert.equal(dflt.exitCode, 0, dflt.stderr);
    assert.match(dflt.stdout, /eth0:/);
    const st = await h.rkt(['status', dflt.uuid]);
    assert.match(st.stdout, /networks=default:ip4=172\.16\.28\./);
  } finally {
    await h.teardown();
  }
});
