// OCI image signatures against a real registry (Debian's docker-registry, TLS with a test CA):
// sigstore attachments and OpenPGP simple signatures made by skopeo with GnuPG, keys trusted with
// the built `rkt trust`, and verifyOciImage's verdicts: accepted (naming the key), KEY_UNTRUSTED,
// SIGNATURE_MISSING, SIGNATURE_INVALID.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import https from 'node:https';
import path from 'node:path';
import { execa } from 'execa';
import { isRktError } from '../../common/errors.js';
import { parseDigest, type Digest } from '../../stage0/oci/digest.js';
import type { Descriptor } from '../../stage0/oci/documents.js';
import { parseDockerReference } from '../../stage0/oci/reference.js';
import { verifyOciImage, type SignatureRegistry } from '../../stage0/oci/signatures/index.js';
import { keystoreLayers } from '../../stage0/trust/keystore.js';
import { makeFetchEnv, type FetchEnv } from '../harness/fetch-env.js';
import { makeGpgHome, type GpgHome, type GpgKey } from '../harness/gpg.js';
import { startTestServer, type TestServer } from '../harness/https-server.js';
import { startRegistry, writeTinyOciLayout, type TestRegistry, type TinyOciImage } from '../harness/registry.js';
import {
  attachSigstoreSignatures,
  makeSigstoreKeyPair,
  sigstorePayload,
  sigstoreSign,
  SCRYPT_LEGACY,
  type RegistryPushTarget,
  type SigstoreKeyPair,
} from '../harness/sigstore-key.js';

let reg: TestRegistry;
let ca: Buffer;
let env: FetchEnv;
let gpg: GpgHome;
let g1: GpgKey;
let g2: GpgKey;
let k1: SigstoreKeyPair;
let k2: SigstoreKeyPair;
let imgA: TinyOciImage;
let imgB: TinyOciImage;
let lookasideDir: string;
let skopeoRegistriesD: string;

const MANIFEST_ACCEPT = 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json';

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer; type: string | undefined }> {
  return new Promise((resolve, reject) => {
    https.get(url, { ca, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), type: res.headers['content-type'] }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

/** The two registry reads verifyOciImage needs, for one repository (the lead's client does this in rkt). */
function fetcher(repository: string, mangle: (b: Buffer) => Buffer = (b) => b): SignatureRegistry {
  return {
    async getManifest(tag) {
      const r = await get(`${reg.origin}/v2/${repository}/manifests/${tag}`, { accept: MANIFEST_ACCEPT });
      if (r.status === 404) return undefined;
      if (r.status !== 200) throw new Error(`GET manifest ${tag}: ${r.status}`);
      return { bytes: r.body, mediaType: r.type };
    },
    async blob(desc: Descriptor) {
      const r = await get(`${reg.origin}/v2/${repository}/blobs/${desc.digest.text}`);
      if (r.status !== 200) throw new Error(`GET blob ${desc.digest.text}: ${r.status}`);
      return mangle(r.body);
    },
  };
}

const target = (repository: string): RegistryPushTarget => ({ origin: reg.origin, repository, ca });

async function verify(refText: string, digest: string, opts: { allowHttp?: boolean; mangle?: (b: Buffer) => Buffer } = {}) {
  const reference = parseDockerReference(refText);
  return verifyOciImage({
    reference,
    manifestDigest: parseDigest(digest, 'test'),
    registry: fetcher(reference.repository, opts.mangle),
    keystoreLayers: keystoreLayers({ systemConfig: env.systemConfig, localConfig: env.localConfig }),
    lookaside: { configDirs: [env.systemConfig, env.localConfig], http: { insecureTls: false, allowHttp: opts.allowHttp ?? false, auth: [] } },
  });
}

async function rejectsWith(p: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isRktError(err), String(err));
    assert.equal(err.code, code, err.message);
    assert.match(err.message, message);
    return true;
  });
}

async function trust(prefix: string, key: string): Promise<{ stdout: string; stderr: string }> {
  const r = await env.rkt(['trust', '--skip-fingerprint-review', `--prefix=${prefix}`, key]);
  assert.equal(r.exitCode, 0, r.stderr);
  return r;
}

/** skopeo copy with a signature option, into the test registry. */
async function skopeoCopy(layout: TinyOciImage, ref: string, signArgs: string[], gnupgHome?: string): Promise<{ exitCode: number; stderr: string }> {
  const r = await execa('skopeo', [
    'copy', '--quiet', '--policy', path.join(reg.root, 'policy.json'), '--dest-cert-dir', path.join(reg.root, 'certs.d'),
    '--registries.d', skopeoRegistriesD, ...signArgs, `oci:${layout.dir}:${layout.tag}`, `docker://${reg.host}/${ref}`,
  ], { reject: false, env: { HOME: reg.root, XDG_RUNTIME_DIR: reg.root, ...(gnupgHome ? { GNUPGHOME: gnupgHome } : {}) }, timeout: 60_000 });
  return { exitCode: r.exitCode ?? -1, stderr: String(r.stderr) };
}

/**
 * Signs with skopeo's --sign-by-sigstore-private-key; Debian's skopeo has sigstore signing patched
 * out ("sigstore disabled"), and then the test writes the attachment the way skopeo would have.
 */
async function sigstoreSignImage(layout: TinyOciImage, repository: string, tag: string, key: SigstoreKeyPair, identity?: string): Promise<'skopeo' | 'harness'> {
  const r = await skopeoCopy(layout, `${repository}:${tag}`, ['--sign-by-sigstore-private-key', key.privateKeyPath, '--sign-passphrase-file', key.passphrasePath]);
  if (r.exitCode === 0) return 'skopeo';
  assert.match(r.stderr, /sigstore disabled/, r.stderr);
  const payload = sigstorePayload(identity ?? `${reg.host}/${repository}:${tag}`, layout.manifestDigest);
  await attachSigstoreSignatures(target(repository), layout.manifestDigest, [{ payload, signature: sigstoreSign(key, payload) }]);
  return 'harness';
}

before(async () => {
  reg = await startRegistry();
  ca = await fs.readFile(reg.ca.caCert);
  env = await makeFetchEnv();
  gpg = await makeGpgHome();
  g1 = await gpg.genKey('Simple Signer <simple@example.com>', 'ed25519');
  g2 = await gpg.genKey('Other Signer <other@example.com>', 'rsa');
  k1 = await makeSigstoreKeyPair(path.join(env.root, 'keys'), 'k1', { scrypt: SCRYPT_LEGACY });
  k2 = await makeSigstoreKeyPair(path.join(env.root, 'keys'), 'k2', { scrypt: SCRYPT_LEGACY });
  imgA = await writeTinyOciLayout(path.join(env.root, 'a'), { tag: 't', files: { which: 'a\n' } });
  imgB = await writeTinyOciLayout(path.join(env.root, 'b'), { tag: 't', files: { which: 'b\n' } });
  lookasideDir = path.join(env.root, 'lookaside');
  skopeoRegistriesD = path.join(env.root, 'skopeo-registries.d');
  await fs.mkdir(skopeoRegistriesD, { recursive: true });
  await fs.writeFile(path.join(skopeoRegistriesD, 'test.yaml'),
    `docker:\n  ${reg.host}:\n    use-sigstore-attachments: true\n    lookaside-staging: file://${lookasideDir}\n`);
  // rkt reads the same storage from its local config layer.
  await fs.mkdir(path.join(env.localConfig, 'registries.d'), { recursive: true });
  await fs.writeFile(path.join(env.localConfig, 'registries.d', 'test.yaml'),
    `docker:\n  ${reg.host}/acme/simple:\n    lookaside: file://${lookasideDir}\n  ${reg.host}/acme/unsigned:\n    sigstore: file://${lookasideDir}\n`);
});

after(async () => {
  await reg?.stop();
  await gpg?.cleanup();
  await env?.cleanup();
});

test('rkt trust stores a sigstore public key for a docker prefix with a port, and says which key', async () => {
  const r = await trust(`${reg.host}/acme`, k1.publicKeyPath);
  const escaped = `127.0.0.1%3a${reg.port}`;
  const file = path.join(env.localConfig, 'trustedkeys/prefix.d', escaped, 'acme', `sigstore-${k1.keyId}.pem`);
  assert.match(r.stdout, new RegExp(`Added key for prefix "${reg.host}/acme" at "${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"`));
  assert.match(r.stdout, new RegExp(`Trusted sigstore ECDSA P-256 key sha256:${k1.keyId} for prefix "${reg.host}/acme"`));
  assert.match(r.stderr, new RegExp(`sha256 of its DER is: ${k1.keyId}`));
  assert.match(await fs.readFile(file, 'utf8'), /^-----BEGIN PUBLIC KEY-----\n/);
  assert.equal((await fs.stat(file)).mode & 0o777, 0o644);
  // The OpenPGP side of the same prefix, for the simple-signing tests.
  const g1Pub = await g1.exportPublic(path.join(env.root, 'g1.asc'));
  const g = await trust(`${reg.host}/acme`, g1Pub);
  assert.match(g.stdout, new RegExp(`prefix.d/${escaped}/acme/${g1.fingerprint}"`));
  const bad = await env.rkt(['trust', '--skip-fingerprint-review', '--prefix=127.0.0.1:5000/../x', k1.publicKeyPath]);
  assert.equal(bad.exitCode, 2);
  assert.match(bad.stderr, /invalid prefix/);
  const noKey = await env.rkt(['trust', '--skip-fingerprint-review', `--prefix=${reg.host}/acme`]);
  assert.equal(noKey.exitCode, 2);
  assert.match(noKey.stderr, /no key given/);
});

test('a sigstore signature by the trusted key verifies and names the key', async () => {
  await sigstoreSignImage(imgA, 'acme/app', 't', k1);
  const v = await verify(`${reg.host}/acme/app:t`, imgA.manifestDigest);
  assert.equal(v.verifiedBy, `sigstore key sha256:${k1.keyId} trusted for ${reg.host}/acme`);
  // A repository-only identity (as cosign writes it) vouches for any tag of the repository.
  await reg.pushOciLayout(imgA.dir, 'acme/cosign:t');
  const payload = sigstorePayload(`${reg.host}/acme/cosign`, imgA.manifestDigest);
  await attachSigstoreSignatures(target('acme/cosign'), imgA.manifestDigest, [{ payload, signature: sigstoreSign(k1, payload) }]);
  assert.match((await verify(`${reg.host}/acme/cosign:other`, imgA.manifestDigest)).verifiedBy, /sigstore key/);
});

test('sigstore: untrusted key, key trusted for another prefix, and no signature', async () => {
  await sigstoreSignImage(imgB, 'acme/k2', 't', k2);
  await rejectsWith(verify(`${reg.host}/acme/k2:t`, imgB.manifestDigest), 'KEY_UNTRUSTED',
    new RegExp(`signed by a sigstore key that is not trusted: it verifies with none of the sigstore keys trusted for ${reg.host}/acme/k2 \\(sha256:${k1.keyId.slice(0, 16)}`));
  await trust(`${reg.host}/elsewhere`, k2.publicKeyPath);
  await rejectsWith(verify(`${reg.host}/acme/k2:t`, imgB.manifestDigest), 'KEY_UNTRUSTED',
    new RegExp(`signed by sigstore key sha256:${k2.keyId}, which is trusted only for prefix "${reg.host}/elsewhere"`));
  // A sibling whose name only starts like the trusted prefix is another prefix.
  await reg.pushOciLayout(imgA.dir, 'acmex/app:t');
  const payload = sigstorePayload(`${reg.host}/acmex/app:t`, imgA.manifestDigest);
  await attachSigstoreSignatures(target('acmex/app'), imgA.manifestDigest, [{ payload, signature: sigstoreSign(k1, payload) }]);
  await rejectsWith(verify(`${reg.host}/acmex/app:t`, imgA.manifestDigest), 'KEY_UNTRUSTED', /trusted only for prefix/);
  await reg.pushOciLayout(imgB.dir, 'acme/none:t');
  await rejectsWith(verify(`${reg.host}/acme/none:t`, imgB.manifestDigest), 'SIGNATURE_MISSING', new RegExp(`image ${reg.host}/acme/none:t is not signed`));
  await assert.rejects(verify(`${reg.host}/acme/none:t`, imgB.manifestDigest), (err: unknown) => isRktError(err) && /--insecure-options=image/.test(err.hint ?? '') && /rkt trust/.test(err.hint ?? ''));
});

test('sigstore: tampered payloads and signatures of another image are invalid', async () => {
  // The signature of image A, copied to image B: signed by the trusted key, but for another manifest.
  await reg.pushOciLayout(imgB.dir, 'acme/copied:t');
  const forA = sigstorePayload(`${reg.host}/acme/copied:t`, imgA.manifestDigest);
  await attachSigstoreSignatures(target('acme/copied'), imgB.manifestDigest, [{ payload: forA, signature: sigstoreSign(k1, forA) }]);
  await rejectsWith(verify(`${reg.host}/acme/copied:t`, imgB.manifestDigest), 'SIGNATURE_INVALID',
    new RegExp(`by trusted sigstore key sha256:${k1.keyId} does not vouch for image .*it signs manifest ${imgA.manifestDigest}`));
  // A payload edited after signing to name image B. Sigstore signatures name no key, so a signature
  // that verifies with no known key over a self-consistent payload cannot be told from one by an
  // unknown key: it is refused as untrusted, and the message says it may have been modified.
  await reg.pushOciLayout(imgB.dir, 'acme/edited:t');
  const original = sigstorePayload(`${reg.host}/acme/edited:t`, imgA.manifestDigest);
  const edited = Buffer.from(original.toString().replace(imgA.manifestDigest, imgB.manifestDigest));
  await attachSigstoreSignatures(target('acme/edited'), imgB.manifestDigest, [{ payload: edited, signature: sigstoreSign(k1, original) }]);
  await rejectsWith(verify(`${reg.host}/acme/edited:t`, imgB.manifestDigest), 'KEY_UNTRUSTED', /verifies with none of the sigstore keys .*or the payload or signature was modified/);
  // Edited to name another image than the one it is attached to: invalid whoever signed it.
  await reg.pushOciLayout(imgB.dir, 'acme/edited2:t');
  const forB = sigstorePayload(`${reg.host}/acme/edited2:t`, imgB.manifestDigest);
  const toA = Buffer.from(forB.toString().replace(imgB.manifestDigest, imgA.manifestDigest));
  await attachSigstoreSignatures(target('acme/edited2'), imgB.manifestDigest, [{ payload: toA, signature: sigstoreSign(k1, forB) }]);
  await rejectsWith(verify(`${reg.host}/acme/edited2:t`, imgB.manifestDigest), 'SIGNATURE_INVALID', new RegExp(`does not hold for image .*it signs manifest ${imgA.manifestDigest}`));
  // A registry (or a proxy) that serves a payload other than the one its descriptor names.
  await reg.pushOciLayout(imgB.dir, 'acme/swapped:t');
  const good = sigstorePayload(`${reg.host}/acme/swapped:t`, imgB.manifestDigest);
  await attachSigstoreSignatures(target('acme/swapped'), imgB.manifestDigest, [{ payload: good, signature: sigstoreSign(k1, good) }]);
  assert.match((await verify(`${reg.host}/acme/swapped:t`, imgB.manifestDigest)).verifiedBy, /sigstore key/);
  const lying = (b: Buffer): Buffer => Buffer.from(b.toString().replace('rkt-ts test', 'rkt-ts TEST'));
  await rejectsWith(verify(`${reg.host}/acme/swapped:t`, imgB.manifestDigest, { mangle: lying }), 'SIGNATURE_INVALID', /has digest sha256:[0-9a-f]+, expected/);
  // A signature made for another repository by the trusted key.
  await reg.pushOciLayout(imgB.dir, 'acme/renamed:t');
  const wrongName = sigstorePayload(`${reg.host}/acme/app:t`, imgB.manifestDigest);
  await attachSigstoreSignatures(target('acme/renamed'), imgB.manifestDigest, [{ payload: wrongName, signature: sigstoreSign(k1, wrongName) }]);
  await rejectsWith(verify(`${reg.host}/acme/renamed:t`, imgB.manifestDigest), 'SIGNATURE_INVALID', new RegExp(`made for ${reg.host}/acme/app, not ${reg.host}/acme/renamed`));
});

test('simple signing (skopeo --sign-by, GnuPG) in a lookaside: good, other tag, untrusted, missing, tampered', async () => {
  const signed = await skopeoCopy(imgA, 'acme/simple:s', ['--sign-by', g1.fingerprint], gpg.home);
  assert.equal(signed.exitCode, 0, signed.stderr);
  const sigFile = path.join(lookasideDir, 'acme/simple@sha256=' + imgA.manifestDigest.slice('sha256:'.length), 'signature-1');
  assert.ok((await fs.stat(sigFile)).isFile(), 'skopeo wrote the lookaside signature');
  const v = await verify(`${reg.host}/acme/simple:s`, imgA.manifestDigest);
  assert.match(v.verifiedBy, new RegExp(`^OpenPGP key [0-9A-F ]+ \\(Simple Signer <simple@example.com>\\) trusted for ${reg.host}/acme$`));
  // skopeo signs the tag it pushed; the same bytes asked for under another tag are not vouched for.
  await rejectsWith(verify(`${reg.host}/acme/simple:other`, imgA.manifestDigest), 'SIGNATURE_INVALID', /made for tag s, not other/);
  // By digest, the repository is what must match.
  assert.match((await verify(`${reg.host}/acme/simple@${imgA.manifestDigest}`, imgA.manifestDigest)).verifiedBy, /OpenPGP key/);

  // Image B signed by an untrusted key.
  const byG2 = await skopeoCopy(imgB, 'acme/simple:g2', ['--sign-by', g2.fingerprint], gpg.home);
  assert.equal(byG2.exitCode, 0, byG2.stderr);
  await rejectsWith(verify(`${reg.host}/acme/simple:g2`, imgB.manifestDigest), 'KEY_UNTRUSTED', /signed by an untrusted OpenPGP key \(key id [0-9a-f]{16}/);

  // A lookaside is configured, but nothing was signed there.
  await reg.pushOciLayout(imgB.dir, 'acme/unsigned:t');
  await rejectsWith(verify(`${reg.host}/acme/unsigned:t`, imgB.manifestDigest), 'SIGNATURE_MISSING', /is not signed: no signature found \(looked .*lookaside file:\/\//);

  // Tampered signature bytes.
  const original = await fs.readFile(sigFile);
  const flipped = Buffer.from(original);
  flipped[flipped.length - 40] = (flipped[flipped.length - 40] ?? 0) ^ 0xff;
  await fs.writeFile(sigFile, flipped);
  try {
    await rejectsWith(verify(`${reg.host}/acme/simple:s`, imgA.manifestDigest), 'SIGNATURE_INVALID', /signature/);
  } finally {
    await fs.writeFile(sigFile, original);
  }

  // Image A's signature put where image B's would be: by a trusted key, for another manifest.
  const bDir = path.join(lookasideDir, 'acme/simple@sha256=' + imgB.manifestDigest.slice('sha256:'.length));
  await fs.copyFile(sigFile, path.join(bDir, 'signature-1'));
  await rejectsWith(verify(`${reg.host}/acme/simple:g2`, imgB.manifestDigest), 'SIGNATURE_INVALID', new RegExp(`it signs manifest ${imgA.manifestDigest}`));
});

test('an http(s) lookaside is read only when plain http is allowed', async () => {
  const server: TestServer = await startTestServer();
  try {
    const digestHex = imgA.manifestDigest.slice('sha256:'.length);
    const sig = await fs.readFile(path.join(lookasideDir, `acme/simple@sha256=${digestHex}`, 'signature-1'));
    server.route(`/sigs/acme/simple@sha256=${digestHex}/signature-1`, { body: sig });
    const cfgDir = path.join(env.root, 'user', 'registries.d');
    await fs.mkdir(cfgDir, { recursive: true });
    await fs.writeFile(path.join(cfgDir, 'http.yaml'), `docker:\n  ${reg.host}/acme/simple:\n    lookaside: ${server.url('/sigs')}\n`);
    const reference = parseDockerReference(`${reg.host}/acme/simple:s`);
    const run = (allowHttp: boolean) => verifyOciImage({
      reference,
      manifestDigest: parseDigest(imgA.manifestDigest, 'test'),
      keystoreLayers: keystoreLayers({ systemConfig: env.systemConfig, localConfig: env.localConfig }),
      lookaside: { configDirs: [env.systemConfig, env.localConfig, path.dirname(cfgDir)], http: { insecureTls: false, allowHttp, auth: [] } },
    });
    await rejectsWith(run(false), 'FETCH', /refusing to fetch .* over plain http/);
    assert.match((await run(true)).verifiedBy, /OpenPGP key/);
    assert.ok(server.count(`/sigs/acme/simple@sha256=${digestHex}/signature-2`).total >= 1, 'stops at the first missing signature');
  } finally {
    await server.close();
  }
});

test('a local image (no reference) is reported unsigned', async () => {
  const d: Digest = parseDigest(imgA.manifestDigest, 'test');
  await rejectsWith(verifyOciImage({
    reference: undefined, manifestDigest: d, keystoreLayers: [], lookaside: { configDirs: [], http: { insecureTls: false, allowHttp: false, auth: [] } },
  }), 'SIGNATURE_MISSING', /is not signed/);
});
