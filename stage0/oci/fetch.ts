// `rkt fetch/run/prepare` of an OCI reference: pull policy against the store, then a source (registry
// or local transport), its signature check, and the pull itself.
import { RktError } from '../../common/errors.js';
import { endProgress } from '../context/output.js';
import { configLayers, loadConfig, mirrorFor } from '../config/config.js';
import type { FetchEnv, PullPolicy } from '../fetch/env.js';
import { cachedByOrigin } from '../fetch/remote.js';
import { readBounded } from '../fetch/read-bounded.js';
import type { Digest } from './digest.js';
import type { Descriptor } from './documents.js';
import { unpackLayer } from './layers/unpack.js';
import { pullImage, type OpenedSource, type PullEnv } from './pull.js';
import { clientImageSource, credentialsFor, RegistryClient, type RegistryOptions } from './registry/index.js';
import { formatOciReference, parseOciReference, type DockerReference, type OciReference } from './reference.js';
import { verifyOciImage } from './signatures/index.js';
import { openLocalSource } from './sources/index.js';

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

async function readBlob(client: RegistryClient, desc: Descriptor): Promise<Buffer> {
  return readBounded(await client.openBlob(desc), desc.size, () =>
    new RktError('SIGNATURE_INVALID', `signature blob ${desc.digest.text} is larger than its descriptor says`));
}

async function openSource(env: FetchEnv, ref: OciReference): Promise<OpenedSource> {
  const g = env.ctx.globals;
  const lookaside = { configDirs: configLayers(g), http: env.http };
  const debug = (m: string): void => env.ctx.output.debug(m);
  const layers = env.layers;
  if (ref.transport === 'docker') {
    // A mirror replaces the registry (no fallback to it): a host set up to pull only from its mirror never
    // reaches out on its own. The image keeps its own name, so trust and the store see no difference.
    const mirror = mirrorFor(loadConfig(g), ref.ref.host);
    const reach: DockerReference = mirror ? { ...ref.ref, host: mirror.mirror, apiHost: mirror.mirror } : ref.ref;
    if (mirror) debug(`registry ${ref.ref.host}: fetching from its mirror ${mirror.mirror} (${mirror.source})`);
    const client = new RegistryClient(reach, registryOptions(env, reach));
    const source = clientImageSource(client);
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
    // An OCI image's origin is the reference it was fetched by (importOciImage), as a URL is an ACI's.
    const hit = await cachedByOrigin(env, reference);
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
