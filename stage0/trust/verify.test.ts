// Unit tests for signature verification with real GnuPG keys and signatures (RSA and ed25519,
// armored and binary), and for each refusal: tampered, untrusted, other prefix, masked.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { makeGpgHome, type GpgHome, type GpgKey } from '../../tests/harness/gpg.js';
import { keystoreLayers, writeTrustedKey, type TrustScope } from './keystore.js';
import { readPublicKey } from './pgp.js';
import { verifyImageSignature } from './verify.js';

let gpg: GpgHome;
let dir: string;
let rsa: GpgKey;
let ed: GpgKey;
let image: string;
const NAME = 'example.com/app';

before(async () => {
  gpg = await makeGpgHome();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'verify-'));
  rsa = await gpg.genKey('RSA Signer <rsa@example.com>', 'rsa');
  ed = await gpg.genKey('Ed Signer <ed@example.com>', 'ed25519');
  image = path.join(dir, 'image.aci');
  await fs.writeFile(image, Buffer.from('pretend this is an ACI\n'.repeat(100)));
});

after(async () => {
  await gpg?.cleanup();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

async function configs(name: string): Promise<{ sys: string; local: string }> {
  const base = path.join(dir, name);
  return { sys: path.join(base, 'sys'), local: path.join(base, 'local') };
}

async function trust(configDir: string, key: GpgKey, scope: TrustScope): Promise<void> {
  const file = await key.exportPublic(path.join(dir, `${key.fingerprint}.pub`));
  const info = await readPublicKey(await fs.readFile(file), file);
  assert.equal(info.fingerprint, key.fingerprint);
  await writeTrustedKey(configDir, scope, info.fingerprint, info.armored);
}

async function verify(c: { sys: string; local: string }, sigFile: string, name = NAME, data?: Buffer) {
  return verifyImageSignature({
    layers: keystoreLayers({ systemConfig: c.sys, localConfig: c.local }),
    name,
    data: data ?? (await fs.readFile(image)),
    signature: await fs.readFile(sigFile),
    imageSource: image,
    signatureSource: sigFile,
  });
}

test('accepts gpg signatures from RSA and ed25519 keys, armored and binary', async () => {
  const c = await configs('ok');
  await trust(c.local, rsa, { kind: 'prefix', prefix: NAME });
  await trust(c.local, ed, { kind: 'prefix', prefix: 'example.com' });
  const r1 = await verify(c, await rsa.sign(image, { out: path.join(dir, 'rsa.asc') }));
  assert.deepEqual(r1.uids, ['RSA Signer <rsa@example.com>']);
  const r2 = await verify(c, await ed.sign(image, { out: path.join(dir, 'ed.asc') }));
  assert.equal(r2.fingerprint, ed.fingerprint);
  const r3 = await verify(c, await rsa.sign(image, { out: path.join(dir, 'rsa.sig'), armor: false }));
  assert.equal(r3.fingerprint, rsa.fingerprint);
});

test('refuses a tampered image', async () => {
  const c = await configs('tampered');
  await trust(c.local, rsa, { kind: 'root' });
  const sig = await rsa.sign(image, { out: path.join(dir, 'tamper.asc') });
  const data = Buffer.concat([await fs.readFile(image), Buffer.from('x')]);
  await assert.rejects(verify(c, sig, NAME, data), (err: Error & { code?: string }) => err.code === 'SIGNATURE_INVALID' && /tampered/.test((err as { hint?: string }).hint ?? ''));
});

test('refuses an untrusted signer, and names the prefix a key is trusted for', async () => {
  const c = await configs('untrusted');
  const sig = await ed.sign(image, { out: path.join(dir, 'untrusted.asc') });
  await assert.rejects(verify(c, sig), /signed by an untrusted key/);
  await trust(c.local, ed, { kind: 'prefix', prefix: 'example.org/other' });
  await assert.rejects(verify(c, sig), /trusted only for prefix "example.org\/other"/);
});

test('refuses a vendor key masked by a zero-byte local file', async () => {
  const c = await configs('masked');
  await trust(c.sys, rsa, { kind: 'prefix', prefix: NAME });
  const sig = await rsa.sign(image, { out: path.join(dir, 'masked.asc') });
  assert.equal((await verify(c, sig)).fingerprint, rsa.fingerprint);
  const mask = path.join(c.local, 'trustedkeys/prefix.d/example.com/app', rsa.fingerprint);
  await fs.mkdir(path.dirname(mask), { recursive: true });
  await fs.writeFile(mask, '');
  await assert.rejects(verify(c, sig), /masked by/);
});

test('refuses garbage instead of a signature', async () => {
  const c = await configs('garbage');
  const bad = path.join(dir, 'garbage.asc');
  await fs.writeFile(bad, 'hello');
  await assert.rejects(verify(c, bad), /not an OpenPGP detached signature/);
});
