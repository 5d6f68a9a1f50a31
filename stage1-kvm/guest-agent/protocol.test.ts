// The agent wire format: request layout, chunking, window size, and decoding split/merged frames.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeHostFrame, GuestFrameDecoder, MAX_FRAME } from './protocol.js';

test('request: version, mode, size, argv as NUL-terminated strings', () => {
  const [f] = encodeHostFrame({ type: 'request', tty: true, rows: 24, cols: 80, argv: ['/bin/sh', '-c', 'echo hi'] });
  assert.ok(f);
  assert.equal(f.toString('latin1', 0, 1), 'R');
  assert.equal(f.readUInt32BE(1), f.length - 5);
  assert.deepEqual(f.subarray(5).toString('utf8').split('\0'), ['1', 'tty', '24', '80', '/bin/sh', '-c', 'echo hi', '']);
  assert.throws(() => encodeHostFrame({ type: 'request', tty: false, rows: 0, cols: 0, argv: ['a\0b'] }), /NUL/);
});

test('stdin is split into frames of at most MAX_FRAME bytes; winsize is two 16-bit numbers', () => {
  const frames = encodeHostFrame({ type: 'stdin', data: Buffer.alloc(MAX_FRAME + 10, 1) });
  assert.deepEqual(frames.map((f) => f.readUInt32BE(1)), [MAX_FRAME, 10]);
  const [w] = encodeHostFrame({ type: 'winsize', rows: 50, cols: 132 });
  assert.deepEqual([...(w ?? Buffer.alloc(0))], [0x57, 0, 0, 0, 4, 0, 50, 0, 132]);
});

test('decoder: frames split across chunks and merged in one chunk', () => {
  const d = new GuestFrameDecoder();
  const out = Buffer.concat([
    Buffer.from([0x4f, 0, 0, 0, 3]), Buffer.from('abc'),
    Buffer.from([0x65, 0, 0, 0, 1]), Buffer.from('!'),
    Buffer.from([0x58, 0, 0, 0, 4, 0, 0, 0, 42]),
  ]);
  const got = [...d.push(out.subarray(0, 4)), ...d.push(out.subarray(4, 11)), ...d.push(out.subarray(11))];
  assert.deepEqual(got, [
    { type: 'stdout', data: Buffer.from('abc') },
    { type: 'stderr', data: Buffer.from('!') },
    { type: 'exit', status: 42 },
  ]);
  assert.throws(() => new GuestFrameDecoder().push(Buffer.from([0x5a, 0, 0, 0, 0])), /unknown agent frame/);
});
