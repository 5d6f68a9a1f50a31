// The suite table, in the order the report lists them.
import type { Suite } from '../lib/suite.js';
import { cliStartup } from './cli-startup.js';
import { imageList } from './image-list.js';
import { fetchVerifyRender } from './fetch-verify-render.js';
import { podsNspawn } from './pods-nspawn.js';
import { densityKvm, densityNspawn } from './density.js';
import { kvmPods } from './kvm.js';
import { ociPull } from './oci-pull.js';
import { appAdd } from './app-add.js';
import { criSuite } from './cri.js';

export const SUITES: Record<string, Suite> = {
  'cli-startup': cliStartup,
  'image-list': imageList,
  'fetch-verify-render': fetchVerifyRender,
  'oci-pull': ociPull,
  'pods-nspawn': podsNspawn,
  'density-nspawn': densityNspawn,
  'density-kvm': densityKvm,
  'pods-kvm': kvmPods,
  'app-add': appAdd,
  cri: criSuite,
};
