// Which entry of an index (or Docker manifest list) is this host's image: linux and the host's
// architecture (and variant, when the host has one), skipping attestation entries (unknown/unknown).
import { RktError } from '../../common/errors.js';
import type { Descriptor, ImageIndex } from './documents.js';

export interface HostPlatform {
  os: string;
  architecture: string;
  variant?: string;
}

/** The host in OCI's GOARCH spelling. */
export function hostPlatform(arch: string = process.arch): HostPlatform {
  switch (arch) {
    case 'x64':
      return { os: 'linux', architecture: 'amd64' };
    case 'arm64':
      return { os: 'linux', architecture: 'arm64', variant: 'v8' };
    case 'arm':
      return { os: 'linux', architecture: 'arm', variant: 'v7' };
    case 'ia32':
      return { os: 'linux', architecture: '386' };
    default:
      return { os: 'linux', architecture: arch };
  }
}

function platformText(d: Descriptor): string {
  const p = d.platform;
  return p ? `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}` : 'no platform';
}

export function selectPlatform(index: ImageIndex, host: HostPlatform, what: string, debug?: (m: string) => void): Descriptor {
  const candidates = index.manifests.filter((d) => d.platform && !(d.platform.os === 'unknown' && d.platform.architecture === 'unknown'));
  const matching = candidates.filter((d) => d.platform?.os === host.os && d.platform.architecture === host.architecture);
  // A variant on the entry must match the host's (arm64 entries often carry v8, amd64 ones nothing).
  const exact = matching.find((d) => d.platform?.variant === undefined || host.variant === undefined || d.platform.variant === host.variant);
  if (exact) {
    debug?.(`${what}: index has ${index.manifests.length} entries; picked ${platformText(exact)} ${exact.digest.text}`);
    return exact;
  }
  const have = [...new Set(index.manifests.map(platformText))].join(', ') || 'none';
  throw new RktError('IMAGE_NOT_FOUND', `${what} has no image for ${host.os}/${host.architecture} (it has: ${have})`, {
    hint: 'use an image built for this architecture, or pin one by digest with @sha256:...',
  });
}
