import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { credentialsFor, normalizeRegistryKey } from './credentials.js';
import { loadConfig } from '../../config/config.js';
import { RktError } from '../../../common/errors.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rkt-creds-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

function dockerConfig(dir: string, auths: Record<string, unknown>): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ auths }));
  return dir;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

test('registry keys: URLs and case normalise to host[:port]', () => {
  assert.equal(normalizeRegistryKey('https://Quay.IO/v1/'), 'quay.io');
  assert.equal(normalizeRegistryKey('http://127.0.0.1:5000'), '127.0.0.1:5000');
  assert.equal(normalizeRegistryKey('localhost:5000'), 'localhost:5000');
});

test('docker config.json: base64 auth, URL keys, ports, and Docker Hub aliases', () => {
  const dir = dockerConfig(path.join(root, 'dc1'), {
    'https://index.docker.io/v1/': { auth: b64('hub:hubpass') },
    '127.0.0.1:5000': { auth: b64('local:pa:ss') },
    'https://quay.io': { username: 'q', password: 'qp' },
  });
  const env = { DOCKER_CONFIG: dir };
  assert.deepEqual(credentialsFor('docker.io', [], env), { user: 'hub', password: 'hubpass', source: path.join(dir, 'config.json') });
  assert.equal(credentialsFor('registry-1.docker.io', [], env)?.user, 'hub');
  assert.equal(credentialsFor('127.0.0.1:5000', [], env)?.password, 'pa:ss');
  assert.equal(credentialsFor('127.0.0.1:5001', [], env), undefined);
  assert.equal(credentialsFor('quay.io', [], env)?.user, 'q');
  assert.equal(credentialsFor('example.com', [], env), undefined);
});

test('docker config: HOME/.docker/config.json without DOCKER_CONFIG; no file means none', () => {
  const home = path.join(root, 'home');
  dockerConfig(path.join(home, '.docker'), { 'ghcr.io': { auth: b64('g:h') } });
  assert.equal(credentialsFor('ghcr.io', [], { HOME: home })?.user, 'g');
  assert.equal(credentialsFor('ghcr.io', [], { HOME: path.join(root, 'nohome') }), undefined);
});

test('docker config: malformed files are one-line config errors that show no secret', () => {
  const dir = path.join(root, 'bad');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'config.json'), '{not json');
  assert.throws(() => credentialsFor('x.io', [], { DOCKER_CONFIG: dir }), (e: unknown) => e instanceof RktError && e.code === 'CONFIG_INVALID');
  dockerConfig(dir, { 'x.io': { auth: b64('nocolon-secret') } });
  assert.throws(() => credentialsFor('x.io', [], { DOCKER_CONFIG: dir }), (e: unknown) => e instanceof RktError && !e.message.includes('nocolon-secret'));
});

test('auth.d dockerAuth: loaded next to auth, wins over docker config, later layers win', () => {
  const system = path.join(root, 'system');
  const local = path.join(root, 'local');
  for (const d of [system, local]) fs.mkdirSync(path.join(d, 'auth.d'), { recursive: true });
  fs.writeFileSync(path.join(system, 'auth.d', 'a.json'), JSON.stringify({ rktKind: 'dockerAuth', rktVersion: 'v1', registries: ['quay.io', '127.0.0.1:5000'], credentials: { user: 'sys', password: 'p1' } }));
  fs.writeFileSync(path.join(local, 'auth.d', 'b.json'), JSON.stringify({ rktKind: 'dockerAuth', rktVersion: 'v1', registries: ['quay.io'], credentials: { user: 'loc', password: 'p2' } }));
  fs.writeFileSync(path.join(local, 'auth.d', 'c.json'), JSON.stringify({ rktKind: 'auth', rktVersion: 'v1', domains: ['example.com'], type: 'basic', credentials: { user: 'u', password: 'p' } }));
  const cfg = loadConfig({ systemConfig: system, localConfig: local, userConfig: undefined });
  assert.equal(cfg.auth.length, 1);
  assert.equal(cfg.dockerAuth.length, 2);
  const dc = dockerConfig(path.join(root, 'dc2'), { 'quay.io': { auth: b64('docker:x') }, 'other.io': { auth: b64('docker2:y') } });
  const env = { DOCKER_CONFIG: dc };
  assert.deepEqual(credentialsFor('quay.io', cfg.dockerAuth, env), { user: 'loc', password: 'p2', source: path.join(local, 'auth.d', 'b.json') });
  assert.equal(credentialsFor('127.0.0.1:5000', cfg.dockerAuth, env)?.user, 'sys');
  assert.equal(credentialsFor('other.io', cfg.dockerAuth, env)?.user, 'docker2');
});

test('auth.d dockerAuth: an entry without registries or credentials is a config error', () => {
  const layer = path.join(root, 'badlayer');
  fs.mkdirSync(path.join(layer, 'auth.d'), { recursive: true });
  fs.writeFileSync(path.join(layer, 'auth.d', 'x.json'), JSON.stringify({ rktKind: 'dockerAuth', rktVersion: 'v1', registries: 'quay.io', credentials: { user: 'u' } }));
  assert.throws(() => loadConfig({ systemConfig: layer, localConfig: path.join(root, 'none'), userConfig: undefined }), /dockerAuth needs "registries"/);
});
