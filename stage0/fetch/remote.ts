// Fetches an image from an http(s) URL (signature at the URL + ".asc"), reusing the stored
// copy per pull policy: Cache-Control max-age without asking, ETag with If-None-Match.
import fs from 'node:fs/promises';
import path from 'node:path';
import { RktError } from '../../common/errors.js';
import { labelValue } from '../../common/appc/index.js';
import type { ImageInfo } from '../store/index.js';
import type { AppRef } from './app-string.js';
import type { FetchEnv, PullPolicy } from './env.js';
import type { Fetched } from './file.js';
import { downloadToFile, fetchBytes } from './http.js';
import { peekManifest } from './peek-manifest.js';
import { missingSignature, verifyFetched, type SignatureInput } from './verify-step.js';

const MAX_SIGNATURE_BYTES = 1024 * 1024;

export interface RemoteRequest {
  readonly url: string;
  /** Signature URL (default url + ".asc") or a local --signature file. */
  readonly signatureUrl?: string;
  readonly signatureFile?: string;
  readonly pullPolicy: PullPolicy;
  /** When the URL came from discovery: the name and labels the image must carry. */
  readonly expected?: AppRef;
}

/** The stored image last fetched from this URL (or OCI reference, its aliases' too); when verifying, only one that was verified then. */
export async function cachedByOrigin(env: FetchEnv, url: string): Promise<ImageInfo | undefined> {
  const images = await env.store.listImages();
  return images
    .filter((i: ImageInfo) => (i.origin === url || (i.aliases ?? []).some((a) => a.reference === url)) && (!env.verify || i.signatureVerified === true))
    .sort((a: ImageInfo, b: ImageInfo) => b.importTime.getTime() - a.importTime.getTime())[0];
}

async function getSignature(env: FetchEnv, req: RemoteRequest): Promise<SignatureInput> {
  if (req.signatureFile) {
    const file = path.resolve(req.signatureFile);
    try {
      return { bytes: await fs.readFile(file), source: file };
    } catch (err) {
      throw new RktError('SIGNATURE_MISSING', `cannot read signature ${file}`, { cause: err, hint: 'check the --signature path' });
    }
  }
  const url = req.signatureUrl ?? `${req.url}.asc`;
  const got = await fetchBytes(url, env.http, MAX_SIGNATURE_BYTES, true);
  return { bytes: got?.body, source: url };
}

/** Refuses an image whose manifest does not carry the discovered name and labels. */
function checkExpected(req: RemoteRequest, manifest: { name: string; labels: { name: string; value: string }[] }): void {
  const exp = req.expected;
  if (!exp) return;
  if (manifest.name !== exp.name) {
    throw new RktError('IMAGE_INVALID', `image at ${req.url} is named "${manifest.name}", not "${exp.name}" as requested`, {
      hint: 'the discovery server points at the wrong image; an image must carry the name it was discovered by',
    });
  }
  for (const [k, v] of Object.entries(exp.labels)) {
    const have = labelValue(manifest.labels, k);
    if (have !== undefined && have !== v) {
      throw new RktError('IMAGE_INVALID', `image at ${req.url} has label ${k}=${have}, but ${k}=${v} was requested`);
    }
  }
}

export async function fetchFromUrl(env: FetchEnv, req: RemoteRequest): Promise<Fetched> {
  const cached = await cachedByOrigin(env, req.url);
  if (cached && (req.pullPolicy !== 'update' || cached.importTime.getTime() + (cached.cacheMaxAge ?? 0) * 1000 > Date.now())) {
    env.ctx.output.debug(`using ${cached.id} from the store for ${req.url}`);
    return { id: cached.id, manifest: await env.store.getImageManifest(cached.id) };
  }
  if (req.pullPolicy === 'never') {
    throw new RktError('IMAGE_NOT_FOUND', `image ${req.url} is not in the store`, { hint: 'fetch it first, or use --pull-policy=new or update' });
  }
  // The signature comes first: an unsigned image fails before its (large) download.
  const sig = env.verify ? await getSignature(env, req) : { bytes: undefined, source: '' };
  if (env.verify && sig.bytes === undefined) throw missingSignature(req.url, sig.source);

  const dest = path.join(env.tmpDir, `download-${Date.now()}-${Math.random().toString(36).slice(2)}.aci`);
  try {
    const got = await downloadToFile(req.url, dest, env.http, cached?.etag);
    if (got.status === 'not-modified' && cached) {
      env.ctx.output.debug(`${req.url} not modified (ETag ${cached.etag ?? ''}); using ${cached.id}`);
      return { id: cached.id, manifest: await env.store.getImageManifest(cached.id) };
    }
    if (got.status !== 'ok') throw new RktError('FETCH', `cannot fetch ${req.url}: unexpected 304 Not Modified`);
    const manifest = await peekManifest(dest, req.url);
    checkExpected(req, manifest);
    const verified = await verifyFetched(env, dest, req.url, manifest.name, sig);
    const id = await env.store.importAci(dest, {
      name: manifest.name,
      origin: req.url,
      ...(got.etag !== undefined ? { etag: got.etag } : {}),
      cacheMaxAge: got.cacheMaxAge,
      signatureVerified: verified,
    });
    return { id, manifest };
  } finally {
    await fs.rm(dest, { force: true });
  }
}
