// AC_METADATA_URL for a pod registered with the metadata service: the service's port from the pod's
// mds-registered marker, the host's address as the apps see it, and the pod's token. Flavor-neutral.
import fs from 'node:fs/promises';
import { RktError, errnoCode } from '../../common/errors.js';
import { mdsRegisteredPath } from '../../common/pod-layout.js';

/**
 * The host's address from inside the pod: the loopback with the host's network, else the host side of the
 * pod's first network (what CNI recorded as hostIP, else the gateway it gave the pod).
 */
export function metadataHostAddress(hostNetwork: boolean, nets: readonly { hostIP?: string; gateway?: string }[]): string {
  if (hostNetwork) return '127.0.0.1';
  const first = nets[0];
  const addr = first?.hostIP ?? first?.gateway;
  if (addr === undefined || addr === '') {
    throw new RktError('STAGE1', "cannot tell the metadata service's address to the apps: the pod's first network has no host address or gateway", {
      hint: 'use a network with a gateway (e.g. --net=default) or --net=host with --mds-register',
    });
  }
  return addr;
}

/** `http://<host>:<port>/<token>`, the port read from `<podDir>/mds-registered` (JSON `{port}`). */
export async function metadataUrl(podDir: string, token: string, host: string): Promise<string> {
  const file = mdsRegisteredPath(podDir);
  let raw: string;
  try {
    raw = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new RktError('STAGE1', `cannot read the metadata service registration ${file}: ${errnoCode(err) ?? String(err)}`, {
      hint: 'run the pod with rkt run --mds-register while rkt metadata-service is running', cause: err,
    });
  }
  let port: unknown;
  try {
    port = (JSON.parse(raw) as { port?: unknown }).port;
  } catch {
    port = undefined;
  }
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RktError('STAGE1', `invalid metadata service registration ${file}: port must be an integer 1-65535`);
  }
  const h = host.includes(':') ? `[${host}]` : host;
  return `http://${h}:${port}/${encodeURIComponent(token)}`;
}
