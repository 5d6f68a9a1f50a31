// Fixed names of the metadata service: its default port, URL prefix, registration socket and the pod-dir marker.
import path from 'node:path';

/** rkt's port for the public (app-facing) HTTP API. */
export const MDS_DEFAULT_PORT = 18112;

/** Every app-facing path lives under this prefix (after the optional `/<token>` segment). */
export const MDS_API_PREFIX = '/acMetadata/v1';

/** File in the pod directory written by registerPod: JSON `{"port": N, "socket": "..."}`. */
export const MDS_REGISTERED_FILE = 'mds-registered';

export const CONTENT_TYPE_JSON = 'application/json';
/** The exact spelling the appc spec (and its validator) demands for text endpoints. */
export const CONTENT_TYPE_TEXT = 'text/plain; charset=us-ascii';

/** Tokens are path segments with at least 128 bits of entropy: 32+ characters of hex or base64url. */
export const TOKEN_RULE = /^[A-Za-z0-9_-]{32,256}$/;

/** The registration socket of the service that serves pods of this data dir. */
export function mdsSocketPath(dataDir: string): string {
  return path.join(dataDir, 'metadata-svc.sock');
}

export { mdsRegisteredPath } from '../../common/pod-layout.js';

/**
 * The value of AC_METADATA_URL for an app: `http://<host>:<port>/<token>`, never with a trailing slash
 * (apps append `/acMetadata/v1/...` by string concatenation).
 */
export function mdsPublicUrl(host: string, port: number, token: string): string {
  const h = host.includes(':') ? `[${host}]` : host;
  return `http://${h}:${port}/${token}`;
}
