// The kvm stage1's view of the pod's record (stage1-shared/record): its own section plus the apps' enter
// profiles, as stop, enter, gc and the benchmarks read it; undefined when run never got as far as writing it.
import { readStage1Record } from '../../stage1-shared/record/stage1-record.js';
import type { EnterProfile } from '../../stage1-shared/units/index.js';
import { kvmRecord, type KvmState } from '../flavor/traits.js';

export { KVM_RUN_DIR } from '../flavor/traits.js';

export type KvmFlavorRecord = KvmState & { apps: Record<string, EnterProfile> };

export async function readFlavorRecord(podDir: string): Promise<KvmFlavorRecord | undefined> {
  const rec = await readStage1Record(podDir, kvmRecord);
  return rec === undefined ? undefined : { ...rec.flavorState, apps: rec.apps };
}
