import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PodManifest } from '../../common/appc/index.js';
import { attachableStreams, parseAttachMode, streamsFor } from './attach.js';

function pod(annotations: { name: string; value: string }[]): PodManifest {
  return {
    acKind: 'PodManifest', acVersion: '0.8.11', volumes: [], isolators: [], annotations: [], ports: [],
    apps: [{ name: 'sh', image: { id: 'sha512-x', labels: [] }, annotations, mounts: [] } as unknown as PodManifest['apps'][number]],
  };
}

test('--mode: auto, list, or stream names; tty modes refused with a reason', () => {
  assert.deepEqual(parseAttachMode('auto'), { kind: 'auto' });
  assert.deepEqual(parseAttachMode('list'), { kind: 'list' });
  assert.deepEqual(parseAttachMode('stdin,stdout'), { kind: 'streams', streams: new Set(['stdin', 'stdout']) });
  assert.throws(() => parseAttachMode('tty'), /no terminal/);
  assert.throws(() => parseAttachMode('stdout,bogus'), /"bogus" is not one of/);
});

test('an app offers stdin only when started with --stdin=stream; asking for more is refused', () => {
  const plain = attachableStreams(pod([]), 'sh');
  assert.deepEqual(plain, ['stdout', 'stderr']);
  const stream = attachableStreams(pod([{ name: 'coreos.com/rkt/stage2/stdin', value: 'stream' }]), 'sh');
  assert.deepEqual(stream, ['stdin', 'stdout', 'stderr']);
  assert.deepEqual(streamsFor({ kind: 'auto' }, stream, 'sh'), new Set(stream));
  assert.throws(() => streamsFor(parseAttachMode('stdin'), plain, 'sh'), /app "sh" has no attachable stdin/);
});
