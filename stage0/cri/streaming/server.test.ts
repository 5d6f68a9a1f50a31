// The streaming server with a real `ws` client, a backend that runs real local processes and
// real TCP echo servers on loopback for port forwarding.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { WebSocket } from 'ws';
import { negotiate, offeredProtocols, REMOTE_COMMAND_PROTOCOLS } from './channels.js';
import { ResizeDecoder } from './resize.js';
import { startStreamingServer, type StreamingBackend, type StreamingServer, type StreamProcess } from './server.js';

interface Frame {
  channel: number;
  data: Buffer;
}

interface Backend extends StreamingBackend {
  children: ChildProcess[];
  resizes: Array<[number, number]>;
  portMap: Map<number, number>;
}

function wrap(child: ChildProcess, resizes: Array<[number, number]>): StreamProcess {
  return {
    stdin: child.stdin,
    stdout: child.stdout,
    stderr: child.stderr,
    resize: (w, h) => void resizes.push([w, h]),
    kill: () => void child.kill(),
    exited: new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) =>
        resolve({ exitCode: code ?? 128 + (signal === null ? 0 : (os.constants.signals[signal] ?? 0)) }),
      );
    }),
  };
}

function localBackend(): Backend {
  const b: Backend = {
    children: [],
    resizes: [],
    portMap: new Map(),
    spawnExec(t) {
      const [file, ...args] = t.cmd;
      if (file === 'explode') throw new Error('no such app');
      const child = spawn(file ?? 'false', args, { stdio: 'pipe' });
      b.children.push(child);
      return wrap(child, b.resizes);
    },
    spawnAttach() {
      const child = spawn('cat', [], { stdio: 'pipe' });
      b.children.push(child);
      return wrap(child, b.resizes);
    },
    async portAddress(_pod, port) {
      return { host: '127.0.0.1', port: b.portMap.get(port) ?? port };
    },
  };
  return b;
}

async function withServer(
  fn: (s: StreamingServer, b: Backend, logs: string[]) => Promise<void>,
  extra: { tokenTtlMs?: number; now?: () => number } = {},
): Promise<void> {
  const backend = localBackend();
  const logs: string[] = [];
  const server = await startStreamingServer({ address: '127.0.0.1:0', backend, log: (l) => logs.push(l), ...extra });
  try {
    await fn(server, backend, logs);
  } finally {
    await server.close();
    for (const c of backend.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
}

const exec = (cmd: string[], stdin = false) => ({ podUuid: 'pod-1', app: 'app', cmd, tty: false, stdin, stdout: true, stderr: true });

interface SessionResult {
  frames: Frame[];
  code: number;
  protocol: string;
}

/** Connects, lets `drive` act on each frame, and resolves on close. */
function session(
  url: string,
  protocols: string[],
  drive: (ws: WebSocket, f: Frame | null, frames: Frame[]) => void = () => {},
  base64 = false,
): Promise<SessionResult> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols);
    const frames: Frame[] = [];
    ws.on('open', () => drive(ws, null, frames));
    ws.on('message', (raw, isBinary) => {
      const buf = raw as Buffer;
      let f: Frame;
      if (base64) {
        assert.equal(isBinary, false);
        const s = buf.toString('utf8');
        f = { channel: s.charCodeAt(0) - 48, data: Buffer.from(s.slice(1), 'base64') };
      } else {
        assert.equal(isBinary, true);
        f = { channel: buf[0] ?? -1, data: buf.subarray(1) };
      }
      frames.push(f);
      drive(ws, f, frames);
    });
    ws.on('error', reject);
    ws.on('close', (code) => resolve({ frames, code, protocol: ws.protocol }));
  });
}

function channelText(frames: Frame[], channel: number): string {
  return Buffer.concat(frames.filter((f) => f.channel === channel).map((f) => f.data)).toString('utf8');
}

function frame(channel: number, data: string | Buffer): Buffer {
  return Buffer.concat([Buffer.from([channel]), Buffer.isBuffer(data) ? data : Buffer.from(data)]);
}

/** The HTTP status and body a connection attempt gets when the server refuses the upgrade. */
function refusedUpgrade(url: string, protocols: string[] = ['v4.channel.k8s.io']): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols);
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body });
        ws.terminate();
      });
    });
    ws.on('open', () => reject(new Error('upgrade was accepted')));
    ws.on('error', () => {});
  });
}

function httpGet(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

const SUCCESS = '{"metadata":{},"status":"Success"}';
const SCRIPT = ['sh', '-c', 'echo out; echo err >&2; exit 3'];

test('negotiation: highest version offered wins; none offered is binary v1; unsupported only is null', () => {
  assert.equal(negotiate(['channel.k8s.io', 'v4.channel.k8s.io', 'v5.channel.k8s.io'], REMOTE_COMMAND_PROTOCOLS)?.name, 'v5.channel.k8s.io');
  assert.equal(negotiate(['v4.base64.channel.k8s.io', 'v4.channel.k8s.io'], REMOTE_COMMAND_PROTOCOLS)?.name, 'v4.base64.channel.k8s.io');
  assert.deepEqual(negotiate([], REMOTE_COMMAND_PROTOCOLS), { name: '', base64: false, version: 1 });
  assert.equal(negotiate(['SPDY/3.1+portforward.k8s.io'], REMOTE_COMMAND_PROTOCOLS), null);
  assert.deepEqual(offeredProtocols(['a, b', 'c']), ['a', 'b', 'c']);
});

test('resize decoder: objects split across and packed into frames, case-insensitive names', () => {
  const d = new ResizeDecoder();
  assert.deepEqual(d.push(Buffer.from('{"Width":80,')), []);
  assert.deepEqual(d.push(Buffer.from('"Height":24}\n{"width":100,"height":50}')), [
    { width: 80, height: 24 },
    { width: 100, height: 50 },
  ]);
  assert.throws(() => d.push(Buffer.from('{"Width":"x"}')), /malformed/);
});

for (const protocol of ['v4.channel.k8s.io', 'v5.channel.k8s.io']) {
  test(`exec over ${protocol}: stdout, stderr and the non-zero exit status JSON, then close 1000`, async () => {
    await withServer(async (s) => {
      const url = s.registerExec(exec(SCRIPT));
      assert.match(url, new RegExp(`^${s.baseUrl}/exec/[A-Za-z0-9_-]+$`));
      const r = await session(url, [protocol]);
      assert.equal(r.protocol, protocol);
      assert.equal(r.code, 1000);
      assert.deepEqual(r.frames[0], { channel: 1, data: Buffer.alloc(0) }, 'an empty frame on stdout first');
      assert.equal(channelText(r.frames, 1), 'out\n');
      assert.equal(channelText(r.frames, 2), 'err\n');
      const status = JSON.parse(channelText(r.frames, 3));
      assert.deepEqual(status, {
        metadata: {},
        status: 'Failure',
        message: 'command terminated with non-zero exit code: error executing command [sh -c echo out; echo err >&2; exit 3], exit code 3',
        reason: 'NonZeroExitCode',
        details: { causes: [{ reason: 'ExitCode', message: '3' }] },
      });
      assert.equal(r.frames.at(-1)?.channel, 3, 'the status is the last frame');
    });
  });
}

test('exec with exit 0 sends the Success status (v4)', async () => {
  await withServer(async (s) => {
    const r = await session(s.registerExec(exec(['sh', '-c', 'echo hi'])), ['v4.channel.k8s.io']);
    assert.equal(channelText(r.frames, 1), 'hi\n');
    assert.equal(channelText(r.frames, 3), SUCCESS);
    assert.equal(r.code, 1000);
  });
});

test('exec over plain channel.k8s.io (and no subprotocol): the error channel carries only a failure message', async () => {
  await withServer(async (s) => {
    const fail = await session(s.registerExec(exec(SCRIPT)), ['channel.k8s.io']);
    assert.equal(fail.protocol, 'channel.k8s.io');
    assert.equal(channelText(fail.frames, 1), 'out\n');
    assert.equal(channelText(fail.frames, 2), 'err\n');
    assert.match(channelText(fail.frames, 3), /^command terminated with non-zero exit code: .*exit code 3$/);
    const ok = await session(s.registerExec(exec(['sh', '-c', 'echo fine'])), []);
    assert.equal(ok.protocol, '');
    assert.equal(channelText(ok.frames, 1), 'fine\n');
    assert.equal(ok.frames.filter((f) => f.channel === 3 && f.data.length > 0).length, 0);
    assert.equal(ok.code, 1000);
  });
});

test('exec over v4.base64.channel.k8s.io: text frames, base64 payloads both ways', async () => {
  await withServer(async (s) => {
    const r = await session(
      s.registerExec(exec(['sh', '-c', 'read line; echo "got $line"'], true)),
      ['v4.base64.channel.k8s.io'],
      (ws, f) => {
        if (f === null) ws.send('0' + Buffer.from('abc\n').toString('base64'));
      },
      true,
    );
    assert.equal(r.protocol, 'v4.base64.channel.k8s.io');
    assert.equal(channelText(r.frames, 1), 'got abc\n');
    assert.equal(channelText(r.frames, 3), SUCCESS);
  });
});

test('stdin through cat, ended by the v5 close signal; resizes reach the backend', async () => {
  await withServer(async (s, b) => {
    const r = await session(s.registerExec(exec(['cat'], true)), ['v5.channel.k8s.io'], (ws, f) => {
      if (f !== null) return;
      ws.send(frame(4, '{"Width":80,"Height":24}'));
      ws.send(frame(0, 'hello '));
      ws.send(frame(0, 'world\n'));
      ws.send(Buffer.from([255, 0]));
    });
    assert.equal(channelText(r.frames, 1), 'hello world\n');
    assert.equal(channelText(r.frames, 3), SUCCESS);
    assert.equal(r.code, 1000);
    assert.deepEqual(b.resizes, [[80, 24]]);
  });
});

test('large transfers both ways keep every byte and their order (flow control)', async () => {
  await withServer(async (s) => {
    const chunk = 64 * 1024;
    const total = 4 * 1024 * 1024;
    const input = Buffer.alloc(total);
    for (let i = 0; i < total; i++) input[i] = (i * 7 + (i >> 16)) & 0xff;
    const r = await session(s.registerExec(exec(['cat'], true)), ['v5.channel.k8s.io'], (ws, f) => {
      if (f !== null) return;
      for (let off = 0; off < total; off += chunk) ws.send(frame(0, input.subarray(off, off + chunk)));
      ws.send(Buffer.from([255, 0]));
    });
    const out = Buffer.concat(r.frames.filter((f) => f.channel === 1).map((f) => f.data));
    assert.equal(out.length, total);
    assert.ok(out.equals(input));
    assert.equal(channelText(r.frames, 3), SUCCESS);
    const big = await session(s.registerExec(exec(['head', '-c', '20000000', '/dev/zero'])), ['v4.channel.k8s.io']);
    assert.equal(big.frames.filter((f) => f.channel === 1).reduce((n, f) => n + f.data.length, 0), 20_000_000);
  });
});

test('attach pipes stdin and output the same way', async () => {
  await withServer(async (s) => {
    const url = s.registerAttach({ podUuid: 'pod-1', app: 'app', tty: false, stdin: true, stdout: true, stderr: false });
    assert.match(url, /\/attach\//);
    const r = await session(url, ['v5.channel.k8s.io', 'v4.channel.k8s.io'], (ws, f) => {
      if (f === null) {
        ws.send(frame(0, 'attached\n'));
        ws.send(Buffer.from([255, 0]));
      }
    });
    assert.equal(r.protocol, 'v5.channel.k8s.io');
    assert.equal(channelText(r.frames, 1), 'attached\n');
    assert.equal(channelText(r.frames, 3), SUCCESS);
  });
});

test('client disconnect kills the process', async () => {
  await withServer(async (s, b) => {
    const r = await session(s.registerExec(exec(['sh', '-c', 'echo ready; exec sleep 30'])), ['v5.channel.k8s.io'], (ws, f) => {
      if (f !== null && f.channel === 1 && f.data.toString().includes('ready')) ws.close(1000);
    });
    assert.equal(channelText(r.frames, 3), '', 'no status after the client left');
    const child = b.children[0];
    assert.ok(child);
    if (child.exitCode === null && child.signalCode === null) await new Promise((resolve) => child.once('exit', resolve));
    assert.equal(child.signalCode, 'SIGTERM');
  });
});

test('server close ends open sessions (1001) and kills their processes', async () => {
  const backend = localBackend();
  const server = await startStreamingServer({ address: '127.0.0.1:0', backend });
  let closing: Promise<void> | undefined;
  const r = await session(server.registerExec(exec(['sh', '-c', 'echo ready; exec sleep 30'])), ['v4.channel.k8s.io'], (_ws, f) => {
    if (f !== null && f.channel === 1 && f.data.length > 0) closing = server.close();
  });
  await closing;
  assert.equal(r.code, 1001);
  const child = backend.children[0];
  assert.ok(child);
  if (child.exitCode === null && child.signalCode === null) await new Promise((resolve) => child.once('exit', resolve));
  assert.equal(child.signalCode, 'SIGTERM');
  assert.throws(() => server.registerExec(exec(['true'])), /closed/);
});

test('a backend that throws gets an InternalError status; the server keeps serving', async () => {
  await withServer(async (s, _b, logs) => {
    const r = await session(s.registerExec(exec(['explode'])), ['v4.channel.k8s.io']);
    const status = JSON.parse(channelText(r.frames, 3));
    assert.equal(status.status, 'Failure');
    assert.equal(status.reason, 'InternalError');
    assert.equal(status.code, 500);
    assert.match(status.message, /no such app/);
    assert.equal(r.code, 1000);
    assert.ok(logs.some((l) => l.includes('no such app')));
    const ok = await session(s.registerExec(exec(['true'])), ['v4.channel.k8s.io']);
    assert.equal(channelText(ok.frames, 3), SUCCESS);
  });
});

test('tokens are single-use: a second connection gets 404', async () => {
  await withServer(async (s) => {
    const url = s.registerExec(exec(['true']));
    await session(url, ['v4.channel.k8s.io']);
    const again = await refusedUpgrade(url);
    assert.equal(again.status, 404);
    assert.match(again.body, /^unknown, expired or already used streaming URL\n$/);
  });
});

test('tokens expire after their lifetime (1 minute by default; the clock is injected)', async () => {
  let now = 1_000_000;
  await withServer(
    async (s) => {
      const stale = s.registerExec(exec(['true']));
      const fresh = s.registerPortForward({ podUuid: 'p', ports: [1] });
      now += 59_000;
      const freshExec = s.registerExec(exec(['true']));
      now += 2_000;
      assert.equal((await refusedUpgrade(stale)).status, 404);
      assert.equal((await refusedUpgrade(fresh, ['v4.channel.k8s.io'])).status, 404);
      const r = await session(freshExec, ['v4.channel.k8s.io']);
      assert.equal(channelText(r.frames, 3), SUCCESS);
    },
    { now: () => now },
  );
});

test('404 for unknown tokens and paths and for a token of another kind; 400 for requests that upgrade to nothing', async () => {
  await withServer(async (s) => {
    const url = s.registerExec(exec(['true']));
    const token = url.split('/').at(-1) ?? '';
    for (const u of [`${s.baseUrl}/exec/nosuchtoken`, `${s.baseUrl}/`, `${s.baseUrl}/attach/${token}`]) {
      const r = await httpGet(u);
      assert.equal(r.status, 404, u);
      assert.equal(r.body.split('\n').length, 2, 'one line');
    }
    assert.equal((await refusedUpgrade(`${s.baseUrl}/portforward/${token}`)).status, 404);
    const plain = await httpGet(url);
    assert.equal(plain.status, 400);
    assert.match(plain.body, /needs a WebSocket or SPDY\/3\.1 upgrade/);
    const badProto = await refusedUpgrade(url, ['v3.channel.k8s.io']);
    assert.equal(badProto.status, 400);
    assert.match(badProto.body, /not supported|is supported/);
    // refused requests did not use the token up
    const r = await session(url, ['v4.channel.k8s.io']);
    assert.equal(channelText(r.frames, 3), SUCCESS);
  });
});

function echoServer(prefix: string): Promise<net.Server> {
  return new Promise((resolve) => {
    const srv = net.createServer((sock) => {
      sock.on('data', (d) => sock.write(prefix + d.toString()));
      sock.on('error', () => {});
    });
    srv.listen(0, '127.0.0.1', () => resolve(srv));
  });
}

function portOf(srv: net.Server): number {
  return (srv.address() as net.AddressInfo).port;
}

async function closedPort(): Promise<number> {
  const srv = await echoServer('');
  const port = portOf(srv);
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

function le16(port: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(port);
  return b;
}

test('port-forward: two ports, port frames first on every channel, round trips through TCP', async () => {
  const a = await echoServer('A:');
  const bSrv = await echoServer('B:');
  try {
    await withServer(async (s, b) => {
      b.portMap.set(8080, portOf(a));
      b.portMap.set(9090, portOf(bSrv));
      const url = s.registerPortForward({ podUuid: 'pod-1', ports: [8080, 9090] });
      assert.match(url, /\/portforward\//);
      const r = await session(url, ['v4.channel.k8s.io'], (ws, f, frames) => {
        if (f === null) return;
        if (frames.length === 4) {
          ws.send(frame(0, 'hello'));
          ws.send(frame(2, 'world'));
        }
        if (channelText(frames.slice(4), 0) === 'A:hello' && channelText(frames.slice(4), 2) === 'B:world') ws.close(1000);
      });
      assert.equal(r.protocol, 'v4.channel.k8s.io');
      assert.deepEqual(r.frames.slice(0, 4), [
        { channel: 0, data: le16(8080) },
        { channel: 1, data: le16(8080) },
        { channel: 2, data: le16(9090) },
        { channel: 3, data: le16(9090) },
      ]);
      const rest = r.frames.slice(4);
      assert.equal(channelText(rest, 0), 'A:hello');
      assert.equal(channelText(rest, 2), 'B:world');
      assert.equal(channelText(rest, 1) + channelText(rest, 3), '');
    });
  } finally {
    a.close();
    bSrv.close();
  }
});

test('port-forward: the ports query replaces the RPC ports; data sent before the connection is kept', async () => {
  const a = await echoServer('A:');
  try {
    await withServer(async (s, b) => {
      b.portMap.set(7000, portOf(a));
      const url = `${s.registerPortForward({ podUuid: 'pod-1', ports: [1234] })}?ports=7000`;
      const r = await session(url, [], (ws, f, frames) => {
        if (f === null) ws.send(frame(0, 'early'));
        else if (channelText(frames.slice(2), 0) === 'A:early') ws.close(1000);
      });
      assert.deepEqual(r.frames.slice(0, 2), [
        { channel: 0, data: le16(7000) },
        { channel: 1, data: le16(7000) },
      ]);
      const bad = await refusedUpgrade(`${s.registerPortForward({ podUuid: 'pod-1', ports: [] })}?ports=0`);
      assert.equal(bad.status, 400);
      assert.match(bad.body, /port 0/);
      const none = await refusedUpgrade(s.registerPortForward({ podUuid: 'pod-1', ports: [] }));
      assert.equal(none.status, 400);
    });
  } finally {
    a.close();
  }
});

test('port-forward to a closed port: the error channel says why, the other port keeps working', async () => {
  const a = await echoServer('A:');
  const dead = await closedPort();
  try {
    await withServer(async (s, b, logs) => {
      b.portMap.set(80, dead);
      b.portMap.set(81, portOf(a));
      const alone = await session(s.registerPortForward({ podUuid: 'pod-1', ports: [80] }), ['v4.channel.k8s.io']);
      assert.equal(alone.code, 1000, 'closed once its only port failed');
      assert.match(channelText(alone.frames.slice(2), 1), /^error forwarding port 80 to pod pod-1: .*ECONNREFUSED/);
      assert.ok(logs.some((l) => l.includes('ECONNREFUSED')));

      const mixed = await session(s.registerPortForward({ podUuid: 'pod-1', ports: [80, 81] }), ['v4.channel.k8s.io'], (ws, f, frames) => {
        if (f === null) return;
        if (f.channel === 1 && f.data.toString().startsWith('error')) ws.send(frame(2, 'still'));
        if (channelText(frames.slice(4), 2) === 'A:still') ws.close(1000);
      });
      assert.match(channelText(mixed.frames.slice(4), 1), /ECONNREFUSED/);
      assert.equal(channelText(mixed.frames.slice(4), 2), 'A:still');
    });
  } finally {
    a.close();
  }
});

test('port-forward: the pod side closing its connection ends the session', async () => {
  const once = await new Promise<net.Server>((resolve) => {
    const srv = net.createServer((sock) => sock.end('bye'));
    srv.listen(0, '127.0.0.1', () => resolve(srv));
  });
  try {
    await withServer(async (s, b) => {
      b.portMap.set(5000, portOf(once));
      const r = await session(s.registerPortForward({ podUuid: 'pod-1', ports: [5000] }), ['v4.base64.channel.k8s.io'], () => {}, true);
      assert.equal(r.protocol, 'v4.base64.channel.k8s.io');
      assert.deepEqual(r.frames[0], { channel: 0, data: le16(5000) });
      assert.equal(channelText(r.frames.slice(2), 0), 'bye');
      assert.equal(r.code, 1000);
    });
  } finally {
    once.close();
  }
});

test('listen address: IPv6 in brackets; a bad address is a usage error', async () => {
  const backend = localBackend();
  let server: StreamingServer | undefined;
  try {
    server = await startStreamingServer({ address: '[::1]:0', backend });
  } catch {
    return; // no IPv6 loopback here
  }
  try {
    assert.match(server.baseUrl, /^http:\/\/\[::1\]:[0-9]+$/);
    const r = await session(server.registerExec(exec(['true'])), ['v5.channel.k8s.io']);
    assert.equal(channelText(r.frames, 3), SUCCESS);
  } finally {
    await server.close();
  }
  await assert.rejects(startStreamingServer({ address: 'nonsense', backend }), /invalid streaming address/);
});
