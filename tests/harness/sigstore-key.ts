// Sigstore key pairs for tests, because skopeo 1.9 signs with a sigstore private key but cannot
// make one: an ECDSA P-256 (or ed25519) key from node:crypto, the public half as the PEM
// "PUBLIC KEY" that `rkt trust` and cosign read, the private half encrypted the way cosign and
// containers/image expect it: a PEM block whose body is the JSON envelope of go-securesystemslib's
// `encrypted` package (scrypt key derivation, nacl secretbox over the PKCS#8 DER). Debian's skopeo
// has sigstore signing patched out, so this file also signs payloads and writes the registry
// attachment (`sha256-<hex>.sig`) the way containers/image lays it out.
import { createHash, generateKeyPairSync, randomBytes, scryptSync, sign, type KeyObject } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import fs from 'node:fs/promises';
import path from 'node:path';
import { xsalsa20poly1305 } from '@noble/ciphers/salsa.js';

export type SigstoreKeyAlgo = 'ecdsa-p256' | 'ed25519';

export interface SigstoreKeyPair {
  readonly algo: SigstoreKeyAlgo;
  readonly publicKeyPath: string;
  readonly privateKeyPath: string;
  /** A file holding the passphrase (skopeo's --sign-passphrase-file). */
  readonly passphrasePath: string;
  readonly publicKey: KeyObject;
  readonly privateKey: KeyObject;
  /** sha256 hex of the public key's DER (SubjectPublicKeyInfo): the key's id in rkt's keystore. */
  readonly keyId: string;
}

/**
 * The scrypt cost go-securesystemslib calls "standard" (N = 2^16). It must be one of the parameter
 * sets its Decrypt accepts; tests that make many keys may pass the cheaper "legacy" N = 2^15.
 */
export const SCRYPT_STANDARD = { N: 65536, r: 8, p: 1 } as const;
export const SCRYPT_LEGACY = { N: 32768, r: 8, p: 1 } as const;

/** The PEM type containers/image reads; cosign's older "ENCRYPTED COSIGN PRIVATE KEY" is the other one. */
export const SIGSTORE_PRIVATE_PEM = 'ENCRYPTED SIGSTORE PRIVATE KEY';

function pem(type: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${type}-----\n${lines.join('\n')}\n-----END ${type}-----\n`;
}

/** Encrypts bytes into the JSON envelope go-securesystemslib's encrypted.Decrypt reads. */
export function encryptEnvelope(plaintext: Buffer, passphrase: string, params: { N: number; r: number; p: number } = SCRYPT_STANDARD): Buffer {
  const salt = randomBytes(32);
  const nonce = randomBytes(24);
  // scrypt needs 128·N·r bytes; node's default cap (32 MiB) is below the standard parameters' 64 MiB.
  const key = scryptSync(Buffer.from(passphrase, 'utf8'), salt, 32, { ...params, maxmem: 256 * 128 * params.N * params.r });
  const sealed = xsalsa20poly1305(key, nonce).encrypt(plaintext);
  const envelope = {
    kdf: { name: 'scrypt', params: { N: params.N, r: params.r, p: params.p }, salt: salt.toString('base64') },
    cipher: { name: 'nacl/secretbox', nonce: nonce.toString('base64') },
    ciphertext: Buffer.from(sealed).toString('base64'),
  };
  return Buffer.from(JSON.stringify(envelope));
}

/** Decrypts the envelope (used by the harness's own test; rkt never needs private keys). */
export function decryptEnvelope(envelope: Buffer, passphrase: string): Buffer {
  const e = JSON.parse(envelope.toString('utf8')) as {
    kdf: { name: string; params: { N: number; r: number; p: number }; salt: string };
    cipher: { name: string; nonce: string };
    ciphertext: string;
  };
  if (e.kdf.name !== 'scrypt' || e.cipher.name !== 'nacl/secretbox') throw new Error('unsupported envelope');
  const { N, r, p } = e.kdf.params;
  const key = scryptSync(Buffer.from(passphrase, 'utf8'), Buffer.from(e.kdf.salt, 'base64'), 32, { N, r, p, maxmem: 256 * 128 * N * r });
  return Buffer.from(xsalsa20poly1305(key, Buffer.from(e.cipher.nonce, 'base64')).decrypt(Buffer.from(e.ciphertext, 'base64')));
}

/** Writes `<name>.pub`, `<name>.key` and `<name>.pass` into `dir`. */
export async function makeSigstoreKeyPair(
  dir: string,
  name = 'cosign',
  opts: { algo?: SigstoreKeyAlgo; passphrase?: string; scrypt?: { N: number; r: number; p: number } } = {},
): Promise<SigstoreKeyPair> {
  const algo = opts.algo ?? 'ecdsa-p256';
  const passphrase = opts.passphrase ?? 'test passphrase';
  const { publicKey, privateKey } = algo === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
  await fs.mkdir(dir, { recursive: true });
  const publicKeyPath = path.join(dir, `${name}.pub`);
  const privateKeyPath = path.join(dir, `${name}.key`);
  const passphrasePath = path.join(dir, `${name}.pass`);
  await fs.writeFile(publicKeyPath, pem('PUBLIC KEY', spki));
  await fs.writeFile(privateKeyPath, pem(SIGSTORE_PRIVATE_PEM, encryptEnvelope(pkcs8, passphrase, opts.scrypt)), { mode: 0o600 });
  // No trailing newline: skopeo uses the file's bytes as they are, minus one final newline at most.
  await fs.writeFile(passphrasePath, passphrase, { mode: 0o600 });
  return {
    algo,
    publicKeyPath,
    privateKeyPath,
    passphrasePath,
    publicKey,
    privateKey,
    keyId: createHash('sha256').update(spki).digest('hex'),
  };
}

/** The payload cosign and containers/image sign: critical.{identity, image, type}, optional. */
export function sigstorePayload(dockerReference: string, manifestDigest: string, opts: { type?: string; optional?: Record<string, unknown> | null } = {}): Buffer {
  return Buffer.from(JSON.stringify({
    critical: {
      identity: { 'docker-reference': dockerReference },
      image: { 'docker-manifest-digest': manifestDigest },
      type: opts.type ?? 'cosign container image signature',
    },
    optional: opts.optional === undefined ? { creator: 'rkt-ts test' } : opts.optional,
  }));
}

/** Signs as sigstore's signers do: ECDSA over SHA-256 (ASN.1 DER), ed25519 over the bytes; base64. */
export function sigstoreSign(pair: Pick<SigstoreKeyPair, 'algo' | 'privateKey'>, payload: Buffer): string {
  return (pair.algo === 'ed25519' ? sign(null, payload, pair.privateKey) : sign('sha256', payload, pair.privateKey)).toString('base64');
}

export interface AttachedSignature {
  readonly payload: Buffer;
  /** base64 signature, or undefined to leave the annotation out. */
  readonly signature: string | undefined;
  /** Descriptor digest to write instead of the payload's real one (to test mismatches). */
  readonly claimedDigest?: string;
}

export interface RegistryPushTarget {
  /** https://127.0.0.1:PORT or http://… */
  readonly origin: string;
  readonly repository: string;
  /** PEM of a CA to trust for https. */
  readonly ca?: Buffer;
}

function request(t: RegistryPushTarget, method: string, url: string, body?: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url, t.origin);
    const mod = u.protocol === 'https:' ? https : http;
    const req = mod.request(u, { method, headers: { ...headers, ...(body ? { 'content-length': String(body.length) } : {}) }, ...(t.ca ? { ca: t.ca } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Monolithic blob upload (POST then PUT ?digest=), as the distribution API has it. */
export async function pushBlob(t: RegistryPushTarget, bytes: Buffer): Promise<string> {
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  const start = await request(t, 'POST', `/v2/${t.repository}/blobs/uploads/`);
  if (start.status !== 202 || !start.headers.location) throw new Error(`blob upload start: ${start.status} ${start.body.toString()}`);
  const loc = new URL(start.headers.location, t.origin);
  loc.searchParams.set('digest', digest);
  const put = await request(t, 'PUT', loc.href, bytes, { 'content-type': 'application/octet-stream' });
  if (put.status !== 201) throw new Error(`blob upload: ${put.status} ${put.body.toString()}`);
  return digest;
}

export async function pushManifest(t: RegistryPushTarget, tag: string, manifest: Buffer, mediaType: string): Promise<void> {
  const r = await request(t, 'PUT', `/v2/${t.repository}/manifests/${tag}`, manifest, { 'content-type': mediaType });
  if (r.status !== 201) throw new Error(`manifest put ${tag}: ${r.status} ${r.body.toString()}`);
}

/**
 * Writes `sha256-<hex>.sig` the way containers/image's sigstore attachments do (skopeo 1.9 on
 * Debian has sigstore signing patched out, so the test writes what it would have): an OCI manifest
 * whose config is an OCI image config listing the payload digests as diff_ids, and one
 * simplesigning layer per signature with the base64 signature as its annotation.
 */
export async function attachSigstoreSignatures(t: RegistryPushTarget, manifestDigest: string, sigs: readonly AttachedSignature[]): Promise<Buffer> {
  const layers = [];
  const diffIds: string[] = [];
  for (const s of sigs) {
    const digest = await pushBlob(t, s.payload);
    diffIds.push(digest);
    layers.push({
      mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json',
      digest: s.claimedDigest ?? digest,
      size: s.payload.length,
      ...(s.signature !== undefined ? { annotations: { 'dev.cosignproject.cosign/signature': s.signature } } : {}),
    });
  }
  const config = Buffer.from(JSON.stringify({ architecture: '', os: '', config: {}, rootfs: { type: 'layers', diff_ids: diffIds } }));
  const configDigest = await pushBlob(t, config);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
    layers,
  }));
  const [alg, hex] = manifestDigest.split(':');
  await pushManifest(t, `${alg}-${hex}.sig`, manifest, 'application/vnd.oci.image.manifest.v1+json');
  return manifest;
}
