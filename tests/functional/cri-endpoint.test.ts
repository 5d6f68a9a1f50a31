// `rkt cri`, the Kubernetes CRI endpoint, for both runtime handlers (bodies in cri-bodies.ts).
import { test } from 'node:test';
import { makeKvmHarness, skipReason as kvmSkip } from './kvm-helpers.js';
import { makeNspawnHarness, skipReason as nspawnSkip, type NspawnHarness } from './nspawn-helpers.js';
import { badRequestsBody, cniConfDirBody, imageTagsBody, kubeletSequenceBody, makeCriEnv, teardownCri, type CriEnv } from './cri-bodies.js';

const withEnv = (harness: () => Promise<NspawnHarness>, fn: (e: CriEnv) => Promise<void>, criArgs?: (h: NspawnHarness) => string[]) => async (): Promise<void> => {
  const h = await harness();
  const e = await makeCriEnv(h, criArgs?.(h));
  try {
    await fn(e);
  } catch (err) {
    // The endpoint's --debug log says which rkt command failed and how long each RPC took.
    console.log(`rkt cri log (last 80 lines):\n${e.serverLog.slice(-80).join('\n')}`);
    throw err;
  } finally {
    await teardownCri(e);
    await h.teardown();
  }
};

const handlers: { name: string; skip: string | false; harness: () => Promise<NspawnHarness> }[] = [
  { name: 'nspawn', skip: nspawnSkip(), harness: makeNspawnHarness },
  { name: 'kvm', skip: kvmSkip(), harness: makeKvmHarness },
];

for (const f of handlers) {
  test(`cri ${f.name}: kubelet's sequence, the endpoint killed and restarted in the middle`, { skip: f.skip }, withEnv(f.harness, (e) => kubeletSequenceBody(e, f.name)));
}

test('cri: bad requests answered with the right gRPC codes, nothing changed', { skip: nspawnSkip() }, withEnv(makeNspawnHarness, badRequestsBody));

test('cri: one image pulled by two tags has both, answers by either, and is removed by one', { skip: nspawnSkip() }, withEnv(makeNspawnHarness, imageTagsBody));

test('cri --cni-conf-dir: not ready until a config is there, then sandboxes join its first network', { skip: nspawnSkip() },
  withEnv(makeNspawnHarness, cniConfDirBody, (h) => [`--cni-conf-dir=${h.dirs.root}/cni-net.d`]));
