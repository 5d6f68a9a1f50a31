// `rkt app` on mutable pods, the same bodies for both stage1s (app-bodies.ts).
import { test } from 'node:test';
import { kvmStage1Aci, makeKvmHarness, skipReason as kvmSkip } from './kvm-helpers.js';
import { makeNspawnHarness, nspawnStage1Aci, skipReason as nspawnSkip, type NspawnHarness } from './nspawn-helpers.js';
import { attachBody, notMutableBody, sandboxConcurrencyBody, sandboxLifecycleBody } from './app-bodies.js';

const flavors: { name: string; skip: string | false; aci: () => string; harness: () => Promise<NspawnHarness> }[] = [
  { name: 'nspawn', skip: nspawnSkip(), aci: nspawnStage1Aci, harness: makeNspawnHarness },
  { name: 'kvm', skip: kvmSkip(), aci: kvmStage1Aci, harness: makeKvmHarness },
];

for (const f of flavors) {
  const body = (fn: (h: NspawnHarness, aci: string) => Promise<void>) => async (): Promise<void> => {
    const h = await f.harness();
    try {
      await fn(h, f.aci());
    } finally {
      await h.teardown();
    }
  };
  test(`${f.name}: a sandbox's apps added, started, entered, stopped, restarted, removed; gc leaves nothing`, { skip: f.skip }, body(sandboxLifecycleBody));
  test(`${f.name}: concurrent and killed rkt app add leave the pod consistent`, { skip: f.skip }, body(sandboxConcurrencyBody));
  test(`${f.name}: only sandboxes take app changes`, { skip: f.skip }, body(notMutableBody));
  test(`${f.name}: rkt attach feeds an app's stdin (once, and across attaches) and follows its output`, { skip: f.skip }, body(attachBody));
}
