// Which nspawn pods need an added tree shifted: those whose files the pod sees through its range on disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Stage1Record } from '../../stage1-shared/record/stage1-record.js';
import type { NspawnState, UserNsOwnership } from '../flavor/traits.js';
import { nspawnAppFlavor, nspawnNeedsShift } from './flavor.js';

function record(privateUsers: boolean, ownership?: UserNsOwnership): Stage1Record<NspawnState> {
  return {
    flavor: 'nspawn', apps: {},
    runtime: {
      hostname: 'h', mutable: true, diskShift: 0, disableCapabilities: false, disablePaths: false, disableSeccomp: false, podEtc: { binds: [] },
      ...(privateUsers ? { privateUsers: { shift: 65536 * 3, count: 65536 } } : {}),
    },
    flavorState: { machine: 'm', machineId: 'i', registered: false, cgroups: [], ...(ownership ? { ownership } : {}) },
  };
}

test('disk shift: chown and ID-mapped overlays shift an added tree, an ID-mapped whole tree (map) and no userns do not', () => {
  assert.equal(nspawnNeedsShift('map'), false);
  assert.equal(nspawnNeedsShift(undefined), false);
  assert.deepEqual(nspawnAppFlavor.diskShift(record(true, 'chown')), { shift: 65536 * 3, count: 65536 });
  assert.deepEqual(nspawnAppFlavor.diskShift(record(true, 'overlay-idmap')), { shift: 65536 * 3, count: 65536 });
  assert.equal(nspawnAppFlavor.diskShift(record(true, 'map')), undefined);
  assert.equal(nspawnAppFlavor.diskShift(record(false)), undefined);
});
