// `rkt fetch/run/prepare` of an OCI reference: pull policy against the store, then a source (registry
// or local transport), its signature check, and the pull itself.
import { RktError } from '../../common/errors.js';
import { endProgress } from '../cli/output.js';
import { configLayers, loadConfig } from '../config/config.js';
import type { FetchEnv, PullPolicy } from '../fetch/env.js';
import type { ImageInfo } from '../store/index.js';
import type { Digest } from './digest.js';
import type { Descriptor } from './documents.js';
import { unpackLayer } from './layers/unpack.js';
import { pullImage, type OpenedSource, type PullEnv } from './pull.js';
import { credentialsFor, RegistryClient, type RegistryOptions } from './registry/index.js';
import { formatOciReference, parseOciReference, type DockerReference, type OciReference } from './reference.js';
import { verifyOciImage } from './signatures/index.js';
import { openLocalSource } from './sources/index.js';
import type { ImageSource } from './source.js';

/** The newest stored image fetched by this reference; when verifying, only one that was verified. */
async function storedByReference(env: FetchEnv, reference: string): Promise<ImageInfo | undefined> {
  const images = await env.store.listImages();
  return images
    .filter((i) => i.oci !== undefined && i.oci.reference === reference && (!env.verify || i.signatureVerified === true))
    .sort((a, b) => b.importTime.getTime() - a.importTime.getTime())[0];
}

function registryOptions(env: FetchEnv, ref: DockerReference): RegistryOptions {
  const g = env.ctx.globals;
  const creds = credentialsFor(ref.host, loadConfig(g).dockerAuth, process.env);
  if (creds) env.ctx.output.debug(`registry ${ref.host}: credentials from ${creds.source}`);
  return {
    insecureTls: g.insecure.has('tls'),
    allowHttp: g.insecure.has('http'),
    ...(creds ? { credentials: creds } : {}),
    debug: (m) => env.ctx.output.debug(m),
  };
}

/** An ImageSource over one registry client, which the signature check shares (one token, one connection pool). */
function clientSource(client: RegistryClient, description: string, ref: DockerReference): ImageSource {
  const need = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new RktError('FETCH', `${description}: ${what} is not in the registry`);
    return v;
  };
  return {
    description,
    async top() {
      const reference = ref.digest?.text ?? ref.tag ?? 'latest';
      const m = need(await client.getManifest(reference), `manifest ${reference}`);
      return { bytes: m.bytes, mediaType: m.mediaType, expectedDigest: ref.digest?.text ?? m.digestHeader };
    },
    async manifest(desc) {
      return need(await client.getManifest(desc.digest.text, { maxBytes: desc.size }), `manifest ${desc.digest.text}`).bytes;
    },
    blob: (desc) => client.openBlob(desc),
    async close() {
      client.close();
    },
  };
}

async function readBlob(client: RegistryClient, desc: Descriptor): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of (await client.openBlob(desc)) as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > desc.size) throw new RktError('SIGNATURE_INVALID', `signature blob ${desc.digest.text} is larger than its descriptor says`);
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

async function openSource(env: FetchEnv, ref: OciReference): Promise<OpenedSource> {
  const g = env.ctx.globals;
  const lookaside = { configDirs: configLayers(g), http: env.http };
  const debug = (m: string): void => env.ctx.output.debug(m);
  const layers = env.layers as (typeof env.layers)[number][];
  if (ref.transport === 'docker') {
    const client = new RegistryClient(ref.ref, registryOptions(env, ref.ref));
    const source = clientSource(client, formatOciReference(ref), ref.ref);
    return {
      source,
      checkSignature: (manifestDigest: Digest) =>
        verifyOciImage({
          reference: ref.ref, manifestDigest, keystoreLayers: layers, lookaside, debug,
          registry: {
            getManifest: (tag, o) => client.getManifest(tag, o),
            blob: (desc) => readBlob(client, desc),
          },
        }),
    };
  }
  const source = await openLocalSource(ref, { tmpDir: env.tmpDir, debug });
  return {
    source,
    checkSignature: (manifestDigest: Digest) =>
      verifyOciImage({ reference: ref.transport === 'docker-archive' ? ref.ref : undefined, manifestDigest, keystoreLayers: layers, lookaside, debug }),
  };
}

export async function fetchOciImage(env: FetchEnv, image: string, pullPolicy: PullPolicy): Promise<string> {
  const ref = parseOciReference(image);
  const reference = formatOciReference(ref);
  const out = env.ctx.output;
  // Local transports are always read (like ACI files); registry references follow the pull policy.
  if (ref.transport === 'docker' && pullPolicy !== 'update') {
    const hit = await storedByReference(env, reference);
    if (hit) {
      out.debug(`${reference}: using ${hit.id} from the store (pull policy ${pullPolicy}${hit.verifiedBy ? `; ${hit.verifiedBy}` : ''})`);
      return hit.id;
    }
    if (pullPolicy === 'never') {
      throw new RktError('IMAGE_NOT_FOUND', `${reference} is not in the store${env.verify ? ' (as a verified image)' : ''} and --pull-policy=never forbids fetching it`, {
        hint: 'fetch it first, or use --pull-policy=new',
      });
    }
  }
  const opened = await openSource(env, ref);
  const penv: PullEnv = {
    store: env.store,
    verify: env.verify,
    debug: (m) => out.debug(m),
    progress: (m) => out.progress(m),
    endProgress,
  };
  try {
    const id = await pullImage(penv, ref, opened, unpackLayer);
    const info = await env.store.getImageInfo(id);
    if (info.verifiedBy && env.verify) out.warn(`${reference}: ${info.verifiedBy}`);
    return id;
  } finally {
    await opened.source.close();
  }
}
