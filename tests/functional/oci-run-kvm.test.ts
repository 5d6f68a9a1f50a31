// OCI images in the kvm stage1: the same bodies as nspawn (oci-bodies.ts), the layer stack reaching the
// guest through the pod's 9p root.
import { test } from 'node:test';
import { makeKvmHarness, skipReason } from './kvm-helpers.js';
import { ociExecBody, ociRunBody } from './oci-bodies.js';

const skip = skipReason();

test('kvm: an OCI image with a named user, opaque dir, whiteout, seeded volume, port, args override', { skip }, async () => {
  const h = await makeKvmHarness();
  try {
    await ociRunBody(h);
    await ociRunBody(h, ['--private-users']);
  } finally {
    await h.teardown();
  }
});

test('kvm: OCI Entrypoint + Cmd, --exec replaces the Entrypoint', { skip }, async () => {
  const h = await makeKvmHarness();
  try {
    await ociExecBody(h);
  } finally {
    await h.teardown();
  }
});
