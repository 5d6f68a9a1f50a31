// Contract 3: fetchImage resolves one image string to a verified image in the store, with
// its dependencies: a sha512- id (store only), a path or file:// URL, an http(s) URL, or an
// appc name[:version][,label=value] (store or discovery, per pull policy).
import fs from 'node:fs';
import { RktError } from '../../common/errors.js';
import type { CommandContext } from '../context/context.js';
import { endProgress } from '../context/output.js';
import type { Store } from '../store/index.js';
import { parseAppString } from './app-string.js';
import { fetchDependencies } from './deps.js';
import { makeFetchEnv, type PullPolicy } from './env.js';
import { fetchFromFile, pathFromImageString, type Fetched } from './file.js';
import { fetchByName } from './name.js';
import { fetchFromUrl } from './remote.js';
import { fetchOciImage } from '../oci/fetch.js';
import { isOciImageString } from '../oci/reference.js';

export type { PullPolicy } from './env.js';

export interface FetchImageOptions {
  /** A local detached signature for this image (--signature). */
  signature?: string;
  pullPolicy: PullPolicy;
}

export type ImageStringKind = 'id' | 'path' | 'url' | 'name' | 'oci';

/** How rkt reads an image argument (rkt's guess between a path and an appc name, simplified). */
export function classifyImageString(image: string): ImageStringKind {
  if (/^sha512-[0-9a-f]*$/i.test(image)) return 'id';
  if (isOciImageString(image)) return 'oci';
  if (image.startsWith('file://')) return 'path';
  if (/^https?:\/\//i.test(image)) return 'url';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(image)) return 'url';
  if (image.startsWith('/') || image.startsWith('./') || image.startsWith('../') || image.endsWith('.aci')) return 'path';
  if (fs.statSync(image, { throwIfNoEntry: false })?.isFile()) return 'path';
  return 'name';
}

export async function fetchImage(ctx: CommandContext, store: Store, image: string, opts: FetchImageOptions): Promise<string> {
  const kind = classifyImageString(image);
  if (kind === 'id') return store.resolveImageId(image.toLowerCase());
  const env = await makeFetchEnv(ctx, store);
  try {
    if (kind === 'oci') {
      if (opts.signature !== undefined) {
        throw new RktError('USAGE', `--signature does not apply to ${image}`, { hint: 'OCI images carry their signatures in the registry or its lookaside storage' });
      }
      return await fetchOciImage(env, image, opts.pullPolicy);
    }
    let got: Fetched;
    if (kind === 'path') {
      got = await fetchFromFile(env, pathFromImageString(image), opts.signature);
    } else if (kind === 'url') {
      got = await fetchFromUrl(env, { url: new URL(image).href, ...(opts.signature ? { signatureFile: opts.signature } : {}), pullPolicy: opts.pullPolicy });
    } else {
      got = await fetchByName(env, parseAppString(image), opts.pullPolicy, opts.signature);
    }
    await fetchDependencies(env, got.manifest);
    return got.id;
  } finally {
    endProgress();
    await env.dispose();
  }
}
