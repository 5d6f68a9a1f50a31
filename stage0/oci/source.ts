// Where an OCI image's documents and blobs come from: a registry, an OCI layout, an oci-archive or a
// docker-archive. Sources only read; the puller (pull.ts) checks every digest and size itself, so a
// source needs no trust and the checks are written once.
import type { Readable } from 'node:stream';
import type { Descriptor } from './documents.js';

export interface TopDocument {
  readonly bytes: Buffer;
  /** Content-Type from the registry, or the descriptor's mediaType in a layout. */
  readonly mediaType: string | undefined;
  /**
   * The digest the bytes must have: the digest in the reference when one was given, else the registry's
   * Docker-Content-Digest, else the layout index descriptor's digest. Undefined only for documents that a
   * source synthesises (a legacy docker-archive has no manifest).
   */
  readonly expectedDigest: string | undefined;
  readonly expectedSize?: number;
}

export interface ImageSource {
  /** The reference as the user should see it in messages. */
  readonly description: string;
  /** The document the reference names (a manifest or an index). */
  top(): Promise<TopDocument>;
  /** A manifest or index named by a descriptor (an index entry). Bounded by MAX_DOCUMENT_BYTES. */
  manifest(desc: Descriptor): Promise<Buffer>;
  /** A blob (config or layer) as a stream; the caller verifies size and digest while reading. */
  blob(desc: Descriptor): Promise<Readable>;
  /** Releases temp files and connections. */
  close(): Promise<void>;
}
