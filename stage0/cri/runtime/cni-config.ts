// The node's CNI configuration (kubelet's convention: `rkt cri --cni-conf-dir=/etc/cni/net.d`): sandboxes join
// the network of the lexically first *.conf or *.conflist there, read again at each RunPodSandbox and Status,
// since a network add-on (flannel, calico...) writes it after the node started. rkt reads networks from its
// local config's net.d, so the endpoint runs rkt with a local config dir of its own: the real one's entries,
// linked, with net.d linked to the CNI dir. Plugins are rkt's (/usr/lib/cni, Debian's containernetworking-plugins).
import fs from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../../../common/errors.js';
import { criScratch } from './context.js';

export interface NodeNetwork {
  /** The network a sandbox joins now, or why there is none (kubelet's NetworkReady=false). */
  current(): Promise<{ name: string } | { notReady: string }>;
}

/** A fixed rkt network (`rkt cri --net`, rkt's own net.d). */
export function fixedNetwork(name: string): NodeNetwork {
  return { current: async () => ({ name }) };
}

export function cniConfDirNetwork(dir: string): NodeNetwork {
  return {
    async current() {
      let names: string[];
      try {
        names = (await fs.readdir(dir)).filter((n) => n.endsWith('.conf') || n.endsWith('.conflist')).sort();
      } catch (err) {
        return { notReady: `cannot read the CNI config dir ${dir}: ${errnoCode(err) ?? String(err)}` };
      }
      const first = names[0];
      if (first === undefined) return { notReady: `no network config (*.conf, *.conflist) in ${dir} yet` };
      let name: unknown;
      try {
        name = (JSON.parse(await fs.readFile(path.join(dir, first), 'utf8')) as { name?: unknown }).name;
      } catch (err) {
        return { notReady: `${path.join(dir, first)} is not a CNI config: ${err instanceof Error ? err.message : String(err)}` };
      }
      if (typeof name !== 'string' || name === '') return { notReady: `${path.join(dir, first)} has no "name"` };
      return { name };
    },
  };
}

/**
 * Makes `<dataDir>/cri/local-config`: every entry of `realLocalConfig` linked, but net.d linked to `cniDir`.
 * Remade at each start (the real dir's entries may have changed); it holds nothing of its own.
 */
export async function localConfigWithCni(dataDir: string, realLocalConfig: string, cniDir: string): Promise<string> {
  const dir = path.join(criScratch(dataDir), 'local-config');
  await fs.rm(dir, { recursive: true, force: true });
  await fs.mkdir(dir, { recursive: true, mode: 0o755 });
  const entries = await fs.readdir(realLocalConfig).catch((err: unknown) => {
    if (errnoCode(err) === 'ENOENT') return [] as string[];
    throw err;
  });
  for (const e of entries) {
    if (e !== 'net.d') await fs.symlink(path.resolve(realLocalConfig, e), path.join(dir, e));
  }
  await fs.symlink(path.resolve(cniDir), path.join(dir, 'net.d'));
  return dir;
}
