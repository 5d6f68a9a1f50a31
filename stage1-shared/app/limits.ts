// app/update (an rkt-ts extension of the stage1 contract, for the CRI's UpdateContainerResources): new
// memory and CPU limits for an app, applied by the pod's systemd to its slice (where the app had limits from
// the start, so processes entered into it share them) or its service, running or not. systemctl set-property
// keeps them in system.control drop-ins in the pod's tree, so a restarted app keeps them; app/rm removes them.
import fs from 'node:fs/promises';
import path from 'node:path';
import { RktError } from '../../common/errors.js';
import { stage1RootfsPath } from '../../common/pod-layout.js';
import type { LimitsUpdateArgs } from '../../common/stage1-contract.js';
import { debugLog } from '../entrypoint.js';
import { readStage1Record } from '../record/stage1-record.js';
import { appServiceName, cpuSharesToWeight } from '../units/app-unit.js';
import { UNIT_DIR } from '../units/pod-units.js';
import { appSliceName } from '../units/unit-file.js';
import type { AppFlavor } from './flavor.js';
import { lastLine } from './pod-commands.js';

const SET_MS = 120_000;
/** Where `systemctl set-property` writes, relative to the pod's root. */
const CONTROL_DIR = 'etc/systemd/system.control';
const PROPERTIES = ['MemoryMax', 'CPUQuota', 'CPUShares', 'CPUWeight'] as const;

export function limitProperties(u: LimitsUpdateArgs): string[] {
  const props: string[] = [];
  if (u.memoryMax !== undefined) props.push(`MemoryMax=${u.memoryMax}`);
  if (u.cpuQuotaPercent !== undefined) props.push(`CPUQuota=${u.cpuQuotaPercent}%`);
  // both, as at app/add: each cgroup layout reads its own
  if (u.cpuShares !== undefined) props.push(`CPUShares=${u.cpuShares}`, `CPUWeight=${cpuSharesToWeight(u.cpuShares)}`);
  return props;
}

/** The drop-ins set-property may have written for an app (relative to the pod's root), for app/rm. */
export function limitDropIns(app: string): string[] {
  return [appServiceName(app), appSliceName(app)].flatMap((unit) => PROPERTIES.map((p) => `${CONTROL_DIR}/${unit}.d/50-${p}.conf`));
}

export async function appUpdate<S>(flavor: AppFlavor<S>, args: LimitsUpdateArgs, podDir: string): Promise<void> {
  const rec = await readStage1Record(podDir, flavor.traits.record);
  if (rec === undefined || !rec.runtime.mutable) throw new RktError('POD_STATE', `pod ${args.uuid} is not a running mutable pod`);
  if (rec.apps[args.app] === undefined) throw new RktError('APP_NOT_FOUND', `pod ${args.uuid} has no app "${args.app}"`);
  const props = limitProperties(args);
  if (props.length === 0) return;
  const slice = appSliceName(args.app);
  const hasSlice = await fs.access(path.join(stage1RootfsPath(podDir), UNIT_DIR, slice)).then(() => true, () => false);
  const unit = hasSlice ? slice : appServiceName(args.app);
  const r = await flavor.execInPod(podDir, rec, ['/bin/systemctl', 'set-property', unit, ...props], { timeoutMs: SET_MS });
  debugLog(args.debug, `app ${args.app}: systemctl set-property ${unit} ${props.join(' ')} -> ${r.code}`);
  if (r.code !== 0) throw new RktError('STAGE1', `cannot set the limits of app "${args.app}": ${lastLine(r.stderr) || `exit status ${r.code}`}`);
}
