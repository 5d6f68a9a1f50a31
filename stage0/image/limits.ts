// Bounds and policies applied to every ACI read from outside: sizes, entry counts, device nodes, setuid bits.
//
// Device nodes: an ACI carrying character or block devices is refused at import. The stage1 provides /dev;
// an image that ships its own device nodes could hand a pod raw access to host hardware. FIFOs are harmless
// and allowed. `image build` skips device nodes and sockets (with a warning) so rootfs trees made by
// debootstrap still build into importable images.
//
// setuid/setgid: a regular file that is setuid or setgid AND writable by group or others is refused (it
// has no legitimate use). Otherwise the bits are kept when rkt runs as root (files are then owned by the
// uid/gid recorded in the tar, so a setuid-root binary works inside the pod as it did in rkt) and dropped
// when rkt runs unprivileged (files would be owned by the caller, and a setuid bit would hand its rights to
// whoever can reach the file). The store's directories are 0700 so host users cannot reach such files.

export interface ImageLimits {
  /** Largest accepted manifest, in bytes. */
  readonly maxManifestBytes: number;
  /** Sum of the sizes of all entries' contents. */
  readonly maxTotalBytes: number;
  /** Number of tar entries (headers), directories included. */
  readonly maxEntries: number;
  /** Longest entry name, in bytes. */
  readonly maxPathBytes: number;
  /** Deepest dependency chain followed when rendering. */
  readonly maxDependencyDepth: number;
}

export const DEFAULT_LIMITS: ImageLimits = Object.freeze({
  maxManifestBytes: 1024 * 1024,
  maxTotalBytes: 16 * 1024 * 1024 * 1024,
  maxEntries: 1_000_000,
  maxPathBytes: 4096,
  maxDependencyDepth: 32,
});

/** The uncompressed tar may exceed the content bytes by headers and padding; this bounds the whole stream. */
export function maxTarBytes(limits: ImageLimits): number {
  return limits.maxTotalBytes + limits.maxEntries * 2048 + 1024 * 1024;
}

/** Mode bits kept on extracted files, per the setuid rule above. */
export function extractedMode(mode: number, asRoot: boolean): number {
  const perm = mode & 0o7777;
  return asRoot ? perm : perm & 0o1777;
}
