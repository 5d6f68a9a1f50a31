// Where everything lives under <dataDir>/cas/: one function per location, so no other file joins paths.
//
//   cas/images/<id>/blob        the uncompressed ACI tar (exported byte for byte; its hash is <id>)
//   cas/images/<id>/manifest    the image manifest, as found in the archive
//   cas/images/<id>/info.json   metadata: name, labels, import time, last use, size, origin, etag, cache info
//   cas/trees/<treeId>/         a rendered image with its dependencies: rootfs/, manifest, image, deps, rendered
//   cas/tmp/<pid>-<start>-<r>   work dirs; renamed into place when complete, removed when their process is gone
//   cas/locks/*.lock            flock files: image-<id>.lock (write/remove), tree-<treeId>.lock (render/remove),
//                               layer-<hex>.lock (unpack/remove), prepare.lock (store-wide: pods that are
//                               taking images from the store, shared, against image gc and rm, exclusive)
//   cas/images/<id>/oci-manifest.json, oci-config.json   OCI images: the manifest and config as served
//   cas/layers/sha256-<diff_id hex>/rootfs/   an unpacked OCI layer (overlayfs whiteout format), shared by images
//   cas/layers/sha256-<diff_id hex>/layer.json  its compressed digest, media type and sizes
//   cas/blobs/sha256/<hex>      compressed OCI layer blobs as downloaded (for export and verify)
import path from 'node:path';

export interface StoreLayout {
  readonly dataDir: string;
  readonly cas: string;
  readonly images: string;
  readonly trees: string;
  readonly tmp: string;
  readonly locks: string;
  readonly layers: string;
  readonly blobs: string;
}

export function storeLayout(dataDir: string): StoreLayout {
  const cas = path.join(dataDir, 'cas');
  return {
    dataDir,
    cas,
    images: path.join(cas, 'images'),
    trees: path.join(cas, 'trees'),
    tmp: path.join(cas, 'tmp'),
    locks: path.join(cas, 'locks'),
    layers: path.join(cas, 'layers'),
    blobs: path.join(cas, 'blobs'),
  };
}

export const IMAGE_ID_RE = /^sha512-[0-9a-f]{64}$/;
export const TREE_ID_RE = /^deps-sha512-[0-9a-f]{64}$/;

export const imageDir = (l: StoreLayout, id: string): string => path.join(l.images, id);
export const blobFile = (l: StoreLayout, id: string): string => path.join(l.images, id, 'blob');
export const manifestFile = (l: StoreLayout, id: string): string => path.join(l.images, id, 'manifest');
export const infoFile = (l: StoreLayout, id: string): string => path.join(l.images, id, 'info.json');
export const imageLockFile = (l: StoreLayout, id: string): string => path.join(l.locks, `image-${id}.lock`);

export const treeDir = (l: StoreLayout, treeId: string): string => path.join(l.trees, treeId);
export const treeRootfs = (l: StoreLayout, treeId: string): string => path.join(l.trees, treeId, 'rootfs');
export const treeManifest = (l: StoreLayout, treeId: string): string => path.join(l.trees, treeId, 'manifest');
/** The image ID the tree was rendered for. */
export const treeImageFile = (l: StoreLayout, treeId: string): string => path.join(l.trees, treeId, 'image');
/** JSON array: every image ID layered into the tree, upper first. */
export const treeDepsFile = (l: StoreLayout, treeId: string): string => path.join(l.trees, treeId, 'deps');
/** Written last inside the work dir; the rename of the whole dir is what publishes it. */
export const treeRenderedFile = (l: StoreLayout, treeId: string): string => path.join(l.trees, treeId, 'rendered');
export const treeLockFile = (l: StoreLayout, treeId: string): string => path.join(l.locks, `tree-${treeId}.lock`);

/** Never unlinked: it guards the whole store, not one entry that can go away. */
export const prepareLockFile = (l: StoreLayout): string => path.join(l.locks, 'prepare.lock');

export const LAYER_DIR_RE = /^sha256-[0-9a-f]{64}$/;
export const ociManifestFile = (l: StoreLayout, id: string): string => path.join(l.images, id, 'oci-manifest.json');
export const ociConfigFile = (l: StoreLayout, id: string): string => path.join(l.images, id, 'oci-config.json');
/** A layer tree keyed by its diff_id (hex of the sha256 of the uncompressed tar). */
export const layerDir = (l: StoreLayout, diffIdHex: string): string => path.join(l.layers, `sha256-${diffIdHex}`);
export const layerRootfs = (l: StoreLayout, diffIdHex: string): string => path.join(l.layers, `sha256-${diffIdHex}`, 'rootfs');
export const layerInfoFile = (l: StoreLayout, diffIdHex: string): string => path.join(l.layers, `sha256-${diffIdHex}`, 'layer.json');
export const layerLockFile = (l: StoreLayout, diffIdHex: string): string => path.join(l.locks, `layer-${diffIdHex}.lock`);
export const ociBlobFile = (l: StoreLayout, digestHex: string): string => path.join(l.blobs, 'sha256', digestHex);
