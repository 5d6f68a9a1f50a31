// UpdateContainerResources: the CRI's Linux resources as the limits rkt app add sets (memory, CPU quota in
// percent of one CPU, CPU shares), applied to the running app through its stage1 (app/update).
import { updateAppLimits } from '../../app/control.js';
import type { Output } from '../../context/output.js';
import { invalidArgument } from '../errors.js';
import type { LinuxContainerResources } from '../messages.js';
import type { CriRuntime } from './context.js';
import { resourceLimits } from './container-args.js';
import type { CriContainer } from './cri-pods.js';

export interface LimitsChange { memoryMax?: number; cpuQuotaPercent?: number; cpuShares?: number }

export function limitsFromResources(r: LinuxContainerResources | null): LimitsChange {
  if (r === null) return {};
  const n = (v: unknown): number => Number(v ?? 0);
  if (n(r.memory_limit_in_bytes) < 0 || n(r.cpu_quota) < -1 || n(r.cpu_shares) < 0) throw invalidArgument('UpdateContainerResources: negative limits');
  const l = resourceLimits(r);
  const out: LimitsChange = {};
  if (l.memoryBytes !== undefined) out.memoryMax = l.memoryBytes;
  // the percent rkt app add makes of --cpu=<millis>m (stage1's app spec), so both ways give one limit
  if (l.cpuMillis !== undefined) out.cpuQuotaPercent = Math.max(1, Math.ceil(l.cpuMillis / 10));
  if (l.cpuShares !== undefined) out.cpuShares = l.cpuShares;
  return out;
}

export async function updateContainerLimits(rt: CriRuntime, c: CriContainer, r: LinuxContainerResources | null): Promise<void> {
  const change = limitsFromResources(r);
  if (Object.keys(change).length === 0) {
    rt.debug(`UpdateContainerResources ${c.record.id}: nothing rkt sets (memory, CPU quota, CPU shares) in the request`);
    return;
  }
  const out: Output = { out: () => undefined, progress: () => undefined, warn: rt.debug, debug: rt.debug, debugEnabled: false };
  await updateAppLimits(rt.dataDir, { uuid: c.sandbox.snap.uuid, app: c.app, ...change }, out);
}
