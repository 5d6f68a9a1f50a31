// What every CRI handler shares: where the pods are, how to run rkt, and the endpoint's fixed policy.
import path from 'node:path';
import type { RktCli } from '../rkt-cli.js';
import type { NodeNetwork } from './cni-config.js';
import type { ContainerIndex } from './cri-pods.js';
import type { ContainerLogs } from './container-logs.js';
import type { ImagePolicy } from './image-policy.js';

export interface CriRuntime {
  dataDir: string;
  rkt: RktCli;
  containers: ContainerIndex;
  logs: ContainerLogs;
  images: ImagePolicy;
  /** The network sandboxes join unless they ask for the node's (--net=<its name>). */
  podNetwork: NodeNetwork;
  /** Runtime handler -> --stage1-image value; '' is the default handler. */
  handlers: ReadonlyMap<string, string>;
  debug: (line: string) => void;
}

/** The endpoint's own scratch space (sandbox consoles, uuid files): below --dir, nothing there is state. */
export const criScratch = (dataDir: string): string => path.join(dataDir, 'cri');
export const sandboxConsoleLog = (dataDir: string, name: string): string => path.join(criScratch(dataDir), 'sandboxes', `${name}.log`);
