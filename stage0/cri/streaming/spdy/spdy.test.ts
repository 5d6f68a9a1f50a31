// SPDY/3 framing and header compression on their own, then the streaming server spoken to over
// SPDY (a plain upgrade and the WebSocket tunnel) by a client built on the same session code, with
// real local processes and TCP echo servers. (Interoperability with Go's client-go was checked
// with crictl and critest, see docs/cri.md.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import zlib from 'node:zlib';
import { WebSocket, createWebSocketStream } from 'ws';
import { startStreamingServer, type StreamingBackend, type StreamingServer, type StreamProcess } from '../server.js';
import { dialSpdy } from './client.js';
import { SPDY3_HEADER_DICTIONARY } from './dictionary.js';
import { FrameReader, MAX_FRAME_PAYLOAD, SpdyProtocolError, dataFrame, goAwayFrame, pingFrame, rstStreamFrame, synReplyFrame, synStreamFrame } from './frames.js';
import { HeaderDecoder, HeaderEncoder, serializePairs } from './header-block.js';
import { expectedStreamTypes } from './remote-command.js';
import { SpdySession, type SpdyStream } from './session.js';

test('the header dictionary is SPDY/3\'s: 1423 bytes, Adler-32 0xe3c6a7c2 (the DICTID a preset-dictionary zlib stream carries)', () => {
  assert.equal(SPDY3_HEADER_DICTIONARY.length, 1423);
  const z = zlib.deflateSync(Buffer.from('x'), { dictionary: SPDY3_HEADER_DICTIONARY });
  assert.equal(z.readUInt32BE(2), 0xe3c6a7c2);
});

test('header blocks: one compression context across blocks, names lowercased, repeated names NUL-joined', async () => {
  const enc = new HeaderEncoder();
  const dec = new HeaderDecoder();
  try {
    for (const port of ['80', '8080', '80']) {
      const block = await enc.encode([['StreamType', 'data'], ['port', port], ['port', 'x']]);
      const h = await dec.decode(block);
      assert.deepEqual([...h], [['streamtype', 'data'], ['port', `${port}\0x`]]);
    }
    // a block decoded out of its context is refused, not misread
    await assert.rejects(new HeaderDecoder().decode(Buffer.from([1, 2, 3, 4])), SpdyProtocolError);
  } finally {
    enc.close();
    dec.close();
  }
});

test('header blocks: a compression bomb is refused', async () => {
  const raw = serializePairs([['a', 'x'.repeat(1 << 20)]]);
  const bomb = zlib.deflateSync(raw, { dictionary: SPDY3_HEADER_DICTIONARY, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  assert.ok(bomb.length < 8192);
  await assert.rejects(new HeaderDecoder().decode(bomb), /header block of over/);
});

test('frames: every kind round trips through the reader, split anywhere; oversized frames are refused', () => {
  const hb = Buffer.from('headers');
  const bytes = Buffer.concat([
    synStreamFrame(1, hb, false), synReplyFrame(1, hb, true), dataFrame(1, Buffer.from('hello'), true),
    rstStreamFrame(3, 5), pingFrame(7), goAwayFrame(9, 0),
  ]);
  const r = new FrameReader();
  const frames = [...r.push(bytes.subarray(0, 13)), ...r.push(bytes.subarray(13, 40)), ...r.push(bytes.subarray(40))];
  assert.deepEqual(frames.map((f) => f.kind), ['syn_stream', 'syn_reply', 'data', 'rst_stream', 'ping', 'goaway']);
  assert.deepEqual(frames[0], { kind: 'syn_stream', streamId: 1, fin: false, unidirectional: false, headerBlock: hb });
  assert.deepEqual(frames[2], { kind: 'data', streamId: 1, fin: true, data: Buffer.from('hello') });
  assert.deepEqual(frames[3], { kind: 'rst_stream', streamId: 3, status: 5 });
  const huge = Buffer.alloc(8);
  huge.writeUInt32BE(1, 0);
  huge.writeUInt32BE(MAX_FRAME_PAYLOAD + 1, 4);
  assert.throws(() => new FrameReader().push(huge), /over the/);
  const v2 = synStreamFrame(1, hb, false);
  v2.writeUInt16BE(0x8002, 0);
  assert.throws(() => new FrameReader().push(v2), /SPDY version 2/);
});

test('the streams an exec implies, as kubelet counts them', () => {
  const all = { stdin: true, stdout: true, stderr: true, tty: false };
  assert.deepEqual(expectedStreamTypes('v4.channel.k8s.io', all), ['error', 'stdin', 'stdout', 'stderr']);
  assert.deepEqual(expectedStreamTypes('v4.channel.k8s.io', { ...all, tty: true }), ['error', 'stdin', 'stdout', 'resize']);
  assert.deepEqual(expectedStreamTypes('v2.channel.k8s.io', { ...all, tty: true }), ['error', 'stdin', 'stdout']);
});

// ---------------------------------------------------------------- the server over SPDY

function backend(): StreamingBackend & { children: ChildProcess[] } {
  const children: ChildProcess[] = [];
  const wrap = (child: ChildProcess): StreamProcess => ({
    stdin: child.stdin, stdout: child.stdout, stderr: child.stderr, resize: () => {}, kill: () => void child.kill(),
    exited: new Promise((resolve) => child.once('exit', (code) => resolve({ exitCode: code ?? 137 }))),
  });
  return {
    children,
    spawnExec(t) {
      const [file, ...args] = t.cmd;
      const child = spawn(file ?? 'false', args, { stdio: 'pipe' });
      children.push(child);
      return wrap(child);
    },
    spawnAttach() {
      const child = spawn('cat', [], { stdio: 'pipe' });
      children.push(child);
      return wrap(child);
    },
    async portAddress(_pod, port) {
      return { host: '127.0.0.1', port };
    },
  };
}

async function withServer(fn: (s: StreamingServer) => Promise<void>): Promise<void> {
  const b = backend();
  const server = await startStreamingServer({ address: '127.0.0.1:0', backend: b });
  try {
    await fn(server);
  } finally {
    await server.close();
    for (const c of b.children) if (c.exitCode === null) c.kill('SIGKILL');
  }
}

const spdyConnect = dialSpdy;

function readAll(s: SpdyStream): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    s.on('data', (d: Buffer) => (text += d.toString()));
    s.once('end', () => resolve(text));
  });
}

const EXEC = { podUuid: 'pod-1', app: 'app', tty: false, stdout: true, stderr: true };

test('exec over SPDY (v4): stdout and stderr streams, the status JSON on the error stream, every stream ended', async () => {
  await withServer(async (s) => {
    const url = s.registerExec({ ...EXEC, cmd: ['sh', '-c', 'echo out; echo err >&2; exit 3'], stdin: false });
    const { session, protocol } = await spdyConnect(url, ['v4.channel.k8s.io', 'v3.channel.k8s.io']);
    assert.equal(protocol, 'v4.channel.k8s.io');
    const error = await session.createStream([['streamType', 'error']]);
    const stdout = await session.createStream([['streamType', 'stdout']]);
    const stderr = await session.createStream([['streamType', 'stderr']]);
    const [status, out, err] = await Promise.all([readAll(error), readAll(stdout), readAll(stderr)]);
    assert.equal(out, 'out\n');
    assert.equal(err, 'err\n');
    const st = JSON.parse(status) as { status: string; reason: string; details: { causes: { message: string }[] } };
    assert.equal(st.status, 'Failure');
    assert.equal(st.reason, 'NonZeroExitCode');
    assert.equal(st.details.causes[0]?.message, '3');
    await session.closed;
  });
});

test('exec over SPDY: stdin to cat, ended by the stdin stream\'s FIN; v2 reports success as nothing on the error stream', async () => {
  await withServer(async (s) => {
    const url = s.registerExec({ ...EXEC, cmd: ['cat'], stdin: true, stderr: false });
    const { session, protocol } = await spdyConnect(url, ['v2.channel.k8s.io']);
    assert.equal(protocol, 'v2.channel.k8s.io');
    const error = await session.createStream([['streamtype', 'error']]);
    const stdin = await session.createStream([['streamtype', 'stdin']]);
    const stdout = await session.createStream([['streamtype', 'stdout']]);
    const out = readAll(stdout);
    const status = readAll(error);
    const big = 'x'.repeat(200_000);
    stdin.write(Buffer.from(`hello\n${big}`));
    stdin.end();
    assert.equal(await out, `hello\n${big}`);
    assert.equal(await status, '');
  });
});

test('SPDY upgrades: an unsupported stream protocol is refused (400) without using the URL up', async () => {
  await withServer(async (s) => {
    const url = s.registerExec({ ...EXEC, cmd: ['true'], stdin: false });
    await assert.rejects(spdyConnect(url, ['v1.bogus']), /400: none of the requested stream protocols \(v1\.bogus\)/);
    const { session } = await spdyConnect(url, ['v4.channel.k8s.io']);
    const error = await session.createStream([['streamtype', 'error']]);
    await session.createStream([['streamtype', 'stdout']]);
    await session.createStream([['streamtype', 'stderr']]);
    assert.equal(await readAll(error), '{"metadata":{},"status":"Success"}');
  });
});

function echoServer(): Promise<net.Server> {
  return new Promise((resolve) => {
    const srv = net.createServer((sock) => {
      sock.on('data', (d) => sock.write(`echo:${d.toString()}`));
      sock.on('error', () => {});
    });
    srv.listen(0, '127.0.0.1', () => resolve(srv));
  });
}

/**
 * client-go's tunnelling dialer: a WebSocket offering `SPDY/3.1+portforward.k8s.io`. The `ws` client
 * refuses to offer a subprotocol with a "/", so the handshake is made here and `ws` takes the socket.
 */
function tunnelConnect(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      headers: {
        Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': randomBytes(16).toString('base64'), 'Sec-WebSocket-Protocol': 'SPDY/3.1+portforward.k8s.io',
      },
    });
    req.on('upgrade', (res, socket, head) => {
      assert.equal(res.headers['sec-websocket-protocol'], 'SPDY/3.1+portforward.k8s.io');
      const ws = new WebSocket(null as unknown as string, undefined, {});
      // a client's frames are masked: make the socket-less instance a client before it takes the socket
      (ws as unknown as { _isServer: boolean })._isServer = false;
      (ws as unknown as { setSocket(s: Duplex, h: Buffer, o: object): void }).setSocket(socket, head, { maxPayload: 1 << 24, skipUTF8Validation: false });
      resolve(ws);
    });
    req.on('response', (res) => reject(new Error(`tunnel refused: ${res.statusCode}`)));
    req.on('error', reject);
    req.end();
  });
}

/** One forwarded connection the way client-go opens it: an error stream, then a data stream, same request id. */
async function forwardOnce(session: SpdySession, port: number, requestId: string, send: string): Promise<{ data: string; error: string }> {
  const error = await session.createStream([['streamtype', 'error'], ['port', String(port)], ['requestid', requestId]]);
  error.end();
  const errorText = readAll(error);
  const data = await session.createStream([['streamtype', 'data'], ['port', String(port)], ['requestid', requestId]]);
  const got = new Promise<string>((resolve) => {
    let text = '';
    data.on('data', (d: Buffer) => {
      text += d.toString();
      if (text.length >= `echo:${send}`.length) data.end();
    });
    data.once('end', () => resolve(text));
  });
  data.write(Buffer.from(send));
  const [d, e] = await Promise.race([
    Promise.all([got, errorText]),
    errorText.then(async (e) => (e !== '' ? ['', e] : [await got, e])),
  ]);
  return { data: d, error: e };
}

for (const transport of ['an SPDY upgrade', 'SPDY in a WebSocket'] as const) {
  test(`port-forward over ${transport}: pairs by request id, many connections on one session, errors on the error stream`, async () => {
    const echo = await echoServer();
    const port = (echo.address() as net.AddressInfo).port;
    const closed = await new Promise<number>((resolve) => {
      const tmp = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (tmp.address() as net.AddressInfo).port;
        tmp.close(() => resolve(p));
      });
    });
    try {
      await withServer(async (s) => {
        const url = s.registerPortForward({ podUuid: 'pod-1', ports: [] });
        let session: SpdySession;
        if (transport === 'an SPDY upgrade') {
          const c = await spdyConnect(url, ['portforward.k8s.io']);
          assert.equal(c.protocol, 'portforward.k8s.io');
          session = c.session;
        } else {
          const ws = await tunnelConnect(url);
          session = new SpdySession(createWebSocketStream(ws) as Duplex, 'client');
        }
        assert.deepEqual(await forwardOnce(session, port, '0', 'one'), { data: 'echo:one', error: '' });
        assert.deepEqual(await forwardOnce(session, port, '1', 'two'), { data: 'echo:two', error: '' });
        const refused = await forwardOnce(session, closed, '2', 'three');
        assert.match(refused.error, new RegExp(`^error forwarding port ${closed} to pod pod-1: .*ECONNREFUSED`));
        session.close();
        await session.closed;
      });
    } finally {
      echo.close();
    }
  });
}
