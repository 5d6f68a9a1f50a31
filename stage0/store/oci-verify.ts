// `image verify` and `image export` for OCI images: the manifest must still hash to the image's ID and
// digest, the config and every stored blob to theirs, and every layer tree must be there; export
// writes an oci-archive (a tar of an OCI image layout) from the stored bytes, which keep their digests.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { pathExists } from './fsutil.js';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { RktError, describeCause } from '../../common/errors.js';
import { digestHex as hexOf, digestOf } from '../oci/digest.js';
import { MEDIA } from '../oci/documents.js';
import type { ImageInfo } from './info.js';
import { layerInfoFile, ociBlobFile, ociConfigFile, ociManifestFile, type StoreLayout } from './layout.js';
import { ociImageId, readLayerRecord } from './oci.js';


async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(file)) h.update(c as Buffer);
  return `sha256:${h.digest('hex')}`;
}

export async function verifyOciImage(layout: StoreLayout, info: ImageInfo): Promise<string[]> {
  const problems: string[] = [];
  const oci = info.oci;
  if (!oci) return ['not an OCI image'];
  try {
    const m = await readFile(ociManifestFile(layout, info.id));
    if (ociImageId(m) !== info.id) problems.push(`manifest hashes to ${ociImageId(m)}`);
    if (digestOf(m) !== oci.manifestDigest && !oci.reference.startsWith('docker-archive:')) problems.push(`manifest digest is ${digestOf(m)}, recorded ${oci.manifestDigest}`);
  } catch (err) {
    problems.push(`cannot read the OCI manifest: ${describeCause(err)}`);
  }
  try {
    const c = await readFile(ociConfigFile(layout, info.id));
    if (digestOf(c) !== oci.configDigest) problems.push(`config digest is ${digestOf(c)}, recorded ${oci.configDigest}`);
  } catch (err) {
    problems.push(`cannot read the OCI config: ${describeCause(err)}`);
  }
  for (const l of oci.layers) {
    if (!(await pathExists(layerInfoFile(layout, hexOf(l.diffId))))) problems.push(`layer tree ${l.diffId} is missing`);
    const blob = ociBlobFile(layout, hexOf(l.digest));
    if (await pathExists(blob)) {
      const got = await sha256File(blob);
      if (got !== l.digest) problems.push(`blob ${l.digest} hashes to ${got}`);
    }
  }
  return problems;
}

/** Writes the image as an oci-archive, tagged with its version label; the layer blobs must be in the store. */
export async function exportOciArchive(layout: StoreLayout, info: ImageInfo, out: string): Promise<void> {
  const oci = info.oci;
  if (!oci) throw new Error('not an OCI image');
  // A layer already in the store under another blob (the same diff_id compressed otherwise, e.g. a
  // docker-archive's plain tar) is not downloaded again, so this image's own blob may be absent; say so
  // before writing anything rather than failing half-way with ENOENT.
  for (const l of oci.layers) {
    if (await pathExists(ociBlobFile(layout, hexOf(l.digest)))) continue;
    const rec = await readLayerRecord(layout, hexOf(l.diffId));
    throw new RktError('STORE', `cannot export ${info.id}: its layer blob ${l.digest} is not in the store${rec ? ` (layer ${l.diffId} was stored from blob ${rec.digest})` : ''}`, {
      hint: 'the layer was shared with an image that had it in another form; export that image, or remove both and fetch this one first',
    });
  }
  const manifest = await readFile(ociManifestFile(layout, info.id));
  const config = await readFile(ociConfigFile(layout, info.id));
  const pack = tar.pack();
  const done = pipeline(pack, createWriteStream(out, { mode: 0o644 }));
  const add = (name: string, body: Buffer): Promise<void> =>
    new Promise((resolve, reject) => pack.entry({ name, mode: 0o644, mtime: new Date(0) }, body, (e) => (e ? reject(e) : resolve())));
  const mediaType = (JSON.parse(manifest.toString('utf8')) as { mediaType?: string }).mediaType ?? MEDIA.ociManifest;
  const ref = info.labels['version'];
  await add('oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
  const index = {
    schemaVersion: 2,
    mediaType: MEDIA.ociIndex,
    manifests: [{ mediaType, digest: digestOf(manifest), size: manifest.length, ...(ref ? { annotations: { 'org.opencontainers.image.ref.name': ref } } : {}) }],
  };
  await add('index.json', Buffer.from(JSON.stringify(index)));
  await add(`blobs/sha256/${hexOf(digestOf(manifest))}`, manifest);
  await add(`blobs/sha256/${hexOf(oci.configDigest)}`, config);
  for (const l of oci.layers) {
    const file = ociBlobFile(layout, hexOf(l.digest));
    const st = await stat(file);
    await new Promise<void>((resolve, reject) => {
      const entry = pack.entry({ name: `blobs/sha256/${hexOf(l.digest)}`, size: st.size, mode: 0o644, mtime: new Date(0) }, (e) => (e ? reject(e) : resolve()));
      createReadStream(file).on('error', reject).pipe(entry);
    });
  }
  pack.finalize();
  await done;
}
