// One stored image known by several names: the newest is its own, the others answer as aliases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseInfo, serializeInfo, type ImageInfo } from './info.js';
import { renamedAliases } from './oci.js';
import { pickByName } from './resolve.js';

const image = (name: string, version: string, reference: string): ImageInfo => ({
  id: 'sha512-aa', name, labels: { version, os: 'linux' }, importTime: new Date(0), lastUsed: new Date(0), size: 1,
  oci: { reference, manifestDigest: `sha256:${'1'.repeat(64)}`, configDigest: `sha256:${'2'.repeat(64)}`, layers: [] },
});

test('a second tag keeps the first as an alias; pulling a name again does not duplicate it', () => {
  const info = image('a/web', '1.0', 'docker://a/web:1.0');
  info.aliases = renamedAliases(info, { name: 'a/web', labels: { version: 'latest' }, reference: 'docker://a/web:latest' });
  assert.deepEqual(info.aliases, [{ name: 'a/web', labels: { version: '1.0', os: 'linux' }, reference: 'docker://a/web:1.0' }]);
  Object.assign(info, { labels: { version: 'latest' }, oci: { ...info.oci!, reference: 'docker://a/web:latest' } });
  // 1.0 again: it leaves the aliases (it is the image's own name now) and latest joins them
  const again = renamedAliases(info, { name: 'a/web', labels: { version: '1.0' }, reference: 'docker://a/web:1.0' });
  assert.deepEqual(again.map((a) => a.reference), ['docker://a/web:latest']);
});

test('pickByName finds an image by an alias; info.json keeps aliases and refuses bad ones', () => {
  const info = image('b/app', '2', 'docker://b/app:2');
  info.aliases = [{ name: 'mirror/app', labels: { version: '2' }, reference: 'docker://mirror/app:2' }];
  assert.equal(pickByName([info], 'mirror/app', { version: '2' })?.id, 'sha512-aa');
  assert.equal(pickByName([info], 'mirror/app', { version: '3' }), undefined);
  assert.deepEqual(parseInfo(serializeInfo(info), 'f').aliases, info.aliases);
  const bad = JSON.parse(serializeInfo(info)) as Record<string, unknown>;
  bad['aliases'] = [{ name: 'x', labels: { version: 2 } }];
  assert.throws(() => parseInfo(JSON.stringify(bad), 'f'), /corrupt image metadata f: aliases\[0\] label version must be a string/);
});
