// Unit tests for registries.d: namespace precedence, old key names, layering and refusals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseDockerReference } from '../reference.js';
import { CONTAINERS_REGISTRIES_D, loadRegistriesD, lookasideFor, namespacesFor, registriesDirs } from './registries-d.js';

async function dirs(files: Record<string, string>): Promise<{ root: string; done: () => Promise<void> }> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'registries-d-'));
  for (const [name, text] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(root, name)), { recursive: true });
    await fs.writeFile(path.join(root, name), text);
  }
  return { root, done: () => fs.rm(root, { recursive: true, force: true }) };
}

test('registriesDirs reads containers first, then each rkt config layer', () => {
  assert.deepEqual(registriesDirs(['/usr/lib/rkt', '/etc/rkt']), [CONTAINERS_REGISTRIES_D, '/usr/lib/rkt/registries.d', '/etc/rkt/registries.d']);
});

test('namespaces go from the full reference to the host, then wildcards', () => {
  assert.deepEqual(namespacesFor(parseDockerReference('a.example.com:5000/team/app:1')), [
    'a.example.com:5000/team/app:1', 'a.example.com:5000/team/app', 'a.example.com:5000/team', 'a.example.com:5000', '*.example.com', '*.com',
  ]);
});

test('the most specific namespace with a lookaside wins; sigstore is the old name; staging is not read', async () => {
  const t = await dirs({
    'sys/a.yaml': 'default-docker:\n  lookaside: https://default.example/sigs\n',
    'sys/b.yaml': 'docker:\n  reg.example.com:\n    sigstore: https://host.example/sigs\n  reg.example.com/team/app:\n    use-sigstore-attachments: true\n',
    'local/c.yaml': 'docker:\n  reg.example.com/team:\n    lookaside: file:///srv/team\n    lookaside-staging: file:///srv/staging\n  only.example.com:\n    lookaside-staging: file:///srv/x\n',
    'sys/ignored.yml': 'not: [valid',
  });
  try {
    const cfg = await loadRegistriesD([path.join(t.root, 'sys'), path.join(t.root, 'missing'), path.join(t.root, 'local')]);
    assert.equal(lookasideFor(cfg, parseDockerReference('reg.example.com/team/app:1'))?.url, 'file:///srv/team');
    assert.equal(lookasideFor(cfg, parseDockerReference('reg.example.com/other/app'))?.url, 'https://host.example/sigs');
    assert.equal(lookasideFor(cfg, parseDockerReference('only.example.com/x'))?.url, 'https://default.example/sigs');
    assert.match(lookasideFor(cfg, parseDockerReference('reg.example.com/team/app'))?.source ?? '', /local\/c\.yaml$/);
  } finally {
    await t.done();
  }
});

test('a later directory overrides an earlier one; within one directory a namespace may be set once', async () => {
  const t = await dirs({
    'a/x.yaml': 'docker:\n  h.example:\n    lookaside: https://a.example/\n',
    'b/x.yaml': 'docker:\n  h.example:\n    lookaside: https://b.example/\n',
    'dup/1.yaml': 'docker:\n  h.example:\n    lookaside: https://1.example/\n',
    'dup/2.yaml': 'docker:\n  h.example:\n    lookaside: https://2.example/\n',
    'bad/url.yaml': 'docker:\n  h.example:\n    lookaside: ftp://x/\n',
    'bad2/alias.yaml': 'a: &x {lookaside: "file:///x"}\ndocker:\n  h.example: *x\n',
    'bad3/yaml.yaml': 'docker: [unclosed\n',
  });
  try {
    const cfg = await loadRegistriesD([path.join(t.root, 'a'), path.join(t.root, 'b')]);
    assert.equal(lookasideFor(cfg, parseDockerReference('h.example/r'))?.url, 'https://b.example/');
    await assert.rejects(loadRegistriesD([path.join(t.root, 'dup')]), /also set in/);
    await assert.rejects(loadRegistriesD([path.join(t.root, 'bad')]), /file:\/\/, https:\/\/ or http:\/\//);
    await assert.rejects(loadRegistriesD([path.join(t.root, 'bad2')]), /not valid YAML/);
    await assert.rejects(loadRegistriesD([path.join(t.root, 'bad3')]), /not valid YAML/);
  } finally {
    await t.done();
  }
});
