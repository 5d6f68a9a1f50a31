// app/update's pieces (an rkt-ts extension of the stage1 contract, for the CRI's UpdateContainerResources): the
// `systemctl set-property` of an app's limits, and the drop-ins it leaves in the pod's tree (system.control),
// which keep the limits across app restarts and which app/rm removes.
import type { LimitsUpdateArgs } from '../../common/stage1-contract.js';
import { appServiceName, limitProperties } from '../units/app-unit.js';
import { appSliceName } from '../units/unit-file.js';

/** Where `systemctl set-property` writes, relative to the pod's root. */
const CONTROL_DIR = 'etc/systemd/system.control';
const PROPERTIES = ['MemoryMax', 'CPUQuota', 'CPUShares', 'CPUWeight'] as const;

/** The argv that sets the limits on `unit`; undefined when the update names none. */
export function setLimitsArgv(unit: string, u: LimitsUpdateArgs): string[] | undefined {
  const props = limitProperties(u).map(([k, v]) => `${k}=${v}`);
  return props.length === 0 ? undefined : ['/bin/systemctl', 'set-property', unit, ...props];
}

/** The drop-ins set-property may have written for an app (relative to the pod's root), for app/rm. */
export function limitDropIns(app: string): string[] {
  return [appServiceName(app), appSliceName(app)].flatMap((unit) => PROPERTIES.map((p) => `${CONTROL_DIR}/${unit}.d/50-${p}.conf`));
}
