// OCI images in the nspawn stage1 (bodies shared with kvm in oci-bodies.ts), plus --private-users and
// --no-overlay, which must give the same view of the layers.
import { test } from 'node:test';
import { makeNspawnHarness, skipReason } from './nspawn-helpers.js';
import { ociExecBody, ociRunBody } from './oci-bodies.js';

const skip = skipReason();

test('nspawn: an OCI image with a named user, opaque dir, whiteout, seeded volume, port, args override', { skip }, async () => {
  const h = await makeNspawnHarness();
  try {
    await ociRunBody(h);
  } finally {
    await h.teardown();
  }
});

test('nspawn: the same OCI image with --private-users and with --no-overlay', { skip }, async () => {
  const h = await makeNspawnHarness();
  try {
    await ociRunBody(h, ['--private-users']);
    await ociRunBody(h, ['--no-overlay']);
  } finally {
    await h.teardown();
  }
});

test('nspawn: OCI Entrypoint + Cmd, --exec replaces the Entrypoint', { skip }, async () => {
  const h = await makeNspawnHarness();
  try {
    await ociExecBody(h);
  } finally {
    await h.teardown();
  }
});
