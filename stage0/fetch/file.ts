// Fetches an image from a local path or file:// URL: the file is always read (whatever the
// pull policy), its signature is <file>.asc beside it unless --signature names one.
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { RktError, errnoCode } from '../../common/errors.js';
import type { ImageManifest } from '../../common/appc/index.js';
import type { FetchEnv } from './env.js';
import { peekManifest } from './peek-manifest.js';
import { verifyFetched, type SignatureInput } from './verify-step.js';

export interface Fetched {
  readonly id: string;
  readonly manifest: ImageManifest;
}

export function pathFromImageString(image: string): string {
  return image.startsWith('file://') ? fileURLToPath(image) : path.resolve(image);
}

async function readSignatureFile(file: string, explicit: boolean): Promise<SignatureInput> {
  try {
    return { bytes: await fs.readFile(file), source: file };
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' && !explicit) return { bytes: undefined, source: file };
    throw new RktError('SIGNATURE_MISSING', `cannot read signature ${file}: ${errnoCode(err) ?? String(err)}`, {
      cause: err,
      hint: 'check the --signature path',
    });
  }
}

export async function fetchFromFile(env: FetchEnv, file: string, signature: string | undefined): Promise<Fetched> {
  let st;
  try {
    st = await fs.stat(file);
  } catch (err) {
    throw new RktError('IMAGE_NOT_FOUND', `cannot fetch ${file}: ${errnoCode(err) === 'ENOENT' ? 'no such file' : (errnoCode(err) ?? String(err))}`, {
      cause: err,
      hint: 'check the path of the image file',
    });
  }
  if (!st.isFile()) throw new RktError('IMAGE_INVALID', `cannot fetch ${file}: not a regular file`);
  // Work on a private copy so the bytes verified are the bytes imported, even if the file changes meanwhile.
  const copy = path.join(env.tmpDir, `file-${Date.now()}-${Math.random().toString(36).slice(2)}.aci`);
  await fs.copyFile(file, copy, fs.constants.COPYFILE_FICLONE);
  try {
    return await fetchCopy(env, file, copy, signature);
  } finally {
    await fs.rm(copy, { force: true });
  }
}

async function fetchCopy(env: FetchEnv, file: string, copy: string, signature: string | undefined): Promise<Fetched> {
  const manifest = await peekManifest(copy, file);
  const sig = env.verify
    ? await readSignatureFile(signature ? path.resolve(signature) : `${file}.asc`, signature !== undefined)
    : { bytes: undefined, source: '' };
  const verified = await verifyFetched(env, copy, file, manifest.name, sig);
  env.ctx.output.debug(`importing ${file} into the store`);
  const id = await env.store.importAci(copy, { name: manifest.name, origin: pathToFileURL(file).href, signatureVerified: verified });
  return { id, manifest };
}
