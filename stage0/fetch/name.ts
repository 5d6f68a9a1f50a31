// Fetches an image by appc name[:version][,labels]: from the store per pull policy, else by
// meta discovery, trying each discovered endpoint in order.
import { RktError, isRktError } from '../../common/errors.js';
import { formatAppRef, type AppRef } from './app-string.js';
import { discoverEndpoints, discoverPubkeys, withDefaultLabels } from './discovery.js';
import type { FetchEnv, PullPolicy } from './env.js';
import type { Fetched } from './file.js';
import { fetchFromUrl } from './remote.js';
import { keyringFor, writeTrustedKey } from '../trust/keystore.js';
import { readKeySource } from '../trust/key-source.js';
import { formatFingerprint } from '../trust/pgp.js';

/** Only transport failures move on to the next endpoint; trust and image errors stop at once. */
function tryNextEndpoint(err: unknown): boolean {
  return isRktError(err) && (err.code === 'FETCH' || err.code === 'SIGNATURE_MISSING');
}

/** With --trust-keys-from-https and no key yet for the name: trust the discovered keys fetched over https. */
async function maybeTrustDiscoveredKeys(env: FetchEnv, ref: AppRef): Promise<void> {
  if (!env.verify || !env.ctx.globals.trustKeysFromHttps) return;
  const ring = await keyringFor(env.layers, ref.name);
  if (ring.trusted.length > 0) return;
  const policy = { ...env.http, allowHttp: false, insecureTls: false };
  const urls = await discoverPubkeys(ref.name, { policy, port: env.discoveryPort, debug: (l) => env.ctx.output.debug(l) });
  for (const url of urls) {
    const key = await readKeySource(url, policy);
    if (!key.viaHttps) continue;
    const where = await writeTrustedKey(env.ctx.globals.localConfig, { kind: 'prefix', prefix: ref.name }, key.fingerprint, key.armored);
    env.ctx.output.warn(`trusting key ${formatFingerprint(key.fingerprint)} (${key.uids.join(', ')}) for prefix "${ref.name}" because of --trust-keys-from-https; stored at ${where}`);
  }
}

export async function fetchByName(env: FetchEnv, ref: AppRef, pullPolicy: PullPolicy, signatureFile?: string): Promise<Fetched> {
  if (pullPolicy !== 'update') {
    const found = await env.store.findImageByName(ref.name, { ...ref.labels });
    if (found) {
      env.ctx.output.debug(`using ${found.id} from the store for ${formatAppRef(ref)}`);
      return { id: found.id, manifest: await env.store.getImageManifest(found.id) };
    }
    if (pullPolicy === 'never') {
      throw new RktError('IMAGE_NOT_FOUND', `image ${formatAppRef(ref)} is not in the store`, {
        hint: 'fetch it first (rkt fetch), or use --pull-policy=new or update',
      });
    }
  }
  await maybeTrustDiscoveredKeys(env, ref);
  const endpoints = await discoverEndpoints(ref, { policy: env.http, port: env.discoveryPort, debug: (l) => env.ctx.output.debug(l) });
  const expected = withDefaultLabels(ref);
  let lastErr: unknown;
  for (const ep of endpoints) {
    env.ctx.output.debug(`fetching ${formatAppRef(ref)} from ${ep.aci}`);
    try {
      return await fetchFromUrl(env, {
        url: ep.aci,
        signatureUrl: ep.asc,
        ...(signatureFile ? { signatureFile } : {}),
        pullPolicy: 'update',
        expected,
      });
    } catch (err) {
      if (!tryNextEndpoint(err)) throw err;
      lastErr = err;
      env.ctx.output.debug(`endpoint ${ep.aci} failed: ${isRktError(err) ? err.message : String(err)}`);
    }
  }
  throw lastErr ?? new RktError('DISCOVERY', `no endpoint found for ${formatAppRef(ref)}`);
}
