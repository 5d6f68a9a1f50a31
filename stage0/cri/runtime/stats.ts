// ContainerStats, ListContainerStats, PodSandboxStats, ListPodSandboxStats: one app/stats call per running
// sandbox (the stage1 reads each app's cgroup in the pod or guest). CPU rate (usage_nano_cores) needs two
// samples: the previous one per container is kept in memory, a cache a restart only resets.
import type { AppStats, PodStats } from '../../../common/stage1-contract.js';
import { readPodStats } from '../../app/stats.js';
import type { StringMap } from '../messages.js';
import type { CriRuntime } from './context.js';
import { selectContainers } from './containers.js';
import { containersOf, type CriContainer, type CriSandbox } from './cri-pods.js';
import { listPodSandboxes } from './sandboxes.js';
import { nowNs } from '../records.js';

type Msg = Record<string, unknown>;
const u64 = (n: number | bigint | undefined): Msg | null => (n === undefined ? null : { value: String(n) });

export interface ContainerStatsFilter { id: string; pod_sandbox_id: string; label_selector: StringMap }
export interface PodSandboxStatsFilter { id: string; label_selector: StringMap }

export class StatsReader {
  private readonly lastCpu = new Map<string, { ns: bigint; at: bigint }>();

  constructor(private readonly rt: CriRuntime) {}

  /** The sandbox's apps' use, or undefined when it is not running or its stage1 cannot tell (said under --debug). */
  private async podStats(sb: CriSandbox): Promise<PodStats | undefined> {
    if (sb.snap.state !== 'running') return undefined;
    try {
      return await readPodStats(this.rt.dataDir, sb.snap.uuid, this.rt.debug);
    } catch (err) {
      this.rt.debug(`stats of sandbox ${sb.snap.uuid}: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
  }

  private containerMessage(c: CriContainer, ps: PodStats | undefined): Msg {
    const ts = ps?.timestampNs ?? nowNs();
    const a: AppStats = ps?.apps[c.app] ?? { running: false };
    return {
      attributes: { id: c.record.id, metadata: c.record.metadata, labels: c.record.labels, annotations: c.record.annotations },
      cpu: { timestamp: ts, usage_core_nano_seconds: u64(a.cpuUsageNs ?? (a.running ? undefined : 0)), usage_nano_cores: u64(this.rate(c.record.id, a, ts)) },
      memory: {
        timestamp: ts, working_set_bytes: u64(a.workingSetBytes ?? (a.running ? undefined : 0)), usage_bytes: u64(a.memoryUsageBytes),
        rss_bytes: u64(a.rssBytes), available_bytes: null, page_faults: null, major_page_faults: null,
      },
    };
  }

  /** CPU nanoseconds per second since the previous sample of this container, once there is one. */
  private rate(id: string, a: AppStats, ts: string): bigint | undefined {
    if (a.cpuUsageNs === undefined) {
      this.lastCpu.delete(id);
      return a.running ? undefined : 0n;
    }
    const now = { ns: BigInt(a.cpuUsageNs), at: BigInt(ts) };
    const prev = this.lastCpu.get(id);
    this.lastCpu.set(id, now);
    if (prev === undefined || now.at <= prev.at || now.ns < prev.ns) return undefined;
    return ((now.ns - prev.ns) * 1_000_000_000n) / (now.at - prev.at);
  }

  async containers(f: ContainerStatsFilter | null): Promise<Msg[]> {
    const bySandbox = new Map<string, CriContainer[]>();
    for (const c of await selectContainers(this.rt, f)) bySandbox.set(c.sandbox.snap.uuid, [...(bySandbox.get(c.sandbox.snap.uuid) ?? []), c]);
    const out: Msg[] = [];
    for (const wanted of bySandbox.values()) {
      const ps = await this.podStats(wanted[0]!.sandbox);
      out.push(...wanted.map((c) => this.containerMessage(c, ps)));
    }
    return out;
  }

  async sandbox(sb: CriSandbox): Promise<Msg> {
    const ps = await this.podStats(sb);
    const containers = containersOf(sb).map((c) => this.containerMessage(c, ps));
    const ts = ps?.timestampNs ?? nowNs();
    const sum = (k: keyof Omit<AppStats, 'running'>): bigint | undefined => {
      if (ps === undefined) return undefined;
      const vals = Object.values(ps.apps).map((a) => a[k]).filter((v): v is number => v !== undefined);
      return vals.reduce((n, v) => n + BigInt(v), 0n);
    };
    return {
      attributes: { id: sb.snap.uuid, metadata: sb.record.metadata, labels: sb.record.labels, annotations: sb.record.annotations },
      linux: {
        cpu: { timestamp: ts, usage_core_nano_seconds: u64(sum('cpuUsageNs')), usage_nano_cores: null },
        memory: { timestamp: ts, working_set_bytes: u64(sum('workingSetBytes')), usage_bytes: u64(sum('memoryUsageBytes')), rss_bytes: u64(sum('rssBytes')) },
        containers,
      },
    };
  }

  async sandboxes(f: PodSandboxStatsFilter | null): Promise<Msg[]> {
    const chosen = await listPodSandboxes(this.rt, f === null ? null : { ...f, state: null });
    return Promise.all(chosen.map((sb) => this.sandbox(sb)));
  }
}
