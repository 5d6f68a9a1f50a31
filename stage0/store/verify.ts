// `image verify`: re-hash a stored blob against its ID, re-read its manifest, and check its rendered trees.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { pathExists } from './fsutil.js';
import { describeCause } from '../../common/errors.js';
import type { Store } from './index.js';
import { treeRenderedFile, treeRootfs } from './layout.js';
import { listTrees } from './trees.js';
import { imageIdFromDigest } from '../image/scan.js';
import { verifyOciImage } from './oci-verify.js';

export interface VerifyResult {
  readonly id: string;
  readonly problems: string[];
  /** Trees rendered for this image that are complete. */
  readonly trees: string[];
}

async function hashFile(file: string): Promise<string> {
  const h = createHash('sha512');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return imageIdFromDigest(h.digest('hex'));
}

export async function verifyImage(store: Store, id: string): Promise<VerifyResult> {
  const problems: string[] = [];
  const info = await store.getImageInfo(id);
  if (info.oci) {
    problems.push(...(await verifyOciImage(store.layout, info)));
  } else {
    try {
      const actual = await hashFile(store.blobPath(id));
      if (actual !== id) problems.push(`blob hashes to ${actual}`);
    } catch (err) {
      problems.push(`cannot read blob: ${describeCause(err)}`);
    }
  }
  try {
    await store.getImageManifest(id);
  } catch (err) {
    problems.push(`manifest: ${describeCause(err)}`);
  }
  const trees: string[] = [];
  for (const t of await listTrees(store.layout)) {
    if (t.imageId !== id) continue;
    const ok = await Promise.all([treeRenderedFile(store.layout, t.treeId), treeRootfs(store.layout, t.treeId)].map(pathExists));
    if (ok.every(Boolean)) trees.push(t.treeId);
    else problems.push(`tree ${t.treeId} is incomplete`);
  }
  return { id, problems, trees };
}
