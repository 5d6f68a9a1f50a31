// The nspawn flavor as every entrypoint sees it: its section of the record (what run did to the host, for
// stop/enter/gc and app/*) and where the pod's volumes are.
import type { FlavorTraits } from '../../stage1-shared/flavor-traits.js';
import type { FlavorRecordCodec } from '../../stage1-shared/record/stage1-record.js';
import { volumeInPod } from '../nspawn/volumes.js';

/** map / chown: nspawn's --private-users-ownership; overlay-idmap: ID-mapped lower layers, nspawn "off". */
export type UserNsOwnership = 'map' | 'chown' | 'overlay-idmap';

export interface NspawnState {
  machine: string;
  machineId: string;
  /** Registered with machined (then the host has a journal link to remove at gc). */
  registered: boolean;
  /** The pod's own cgroup directories (absolute), when it is not registered with machined. */
  cgroups: string[];
  /** With --private-users: how the tree got the user namespace's ownership. */
  ownership?: UserNsOwnership;
}

export const nspawnRecord: FlavorRecordCodec<NspawnState> = {
  flavor: 'nspawn',
  parseState(f) {
    const ownership = f.has('ownership') ? f.oneOf('ownership', ['map', 'chown', 'overlay-idmap'] as const) : undefined;
    return {
      machine: f.str('machine'), machineId: f.str('machineId'), registered: f.bool('registered'),
      cgroups: f.strList('cgroups', (c) => c.startsWith('/sys/fs/cgroup/'), 'a list of /sys/fs/cgroup/ paths'),
      ...(ownership !== undefined ? { ownership } : {}),
    };
  },
};

export const nspawnTraits: FlavorTraits<NspawnState> = { record: nspawnRecord, volumePath: volumeInPod };
