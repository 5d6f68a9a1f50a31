// app/stats (an rkt-ts extension of the stage1 contract, for the CRI's stats RPCs): what each app's unit
// uses now, read from its cgroup by one script run in the pod (nspawn: its namespaces; kvm: the guest, through
// the agent), so a pod with many apps costs one call. Read-only: it takes no lock and changes nothing.
import { RktError } from '../../common/errors.js';
import type { AppStats, PodStats } from '../../common/stage1-contract.js';
import { debugLog } from '../entrypoint.js';
import { readStage1Record } from '../record/stage1-record.js';
import { appServiceName } from '../units/app-unit.js';
import type { AppFlavor } from './flavor.js';
import { lastLine, SH } from './pod-commands.js';

const STATS_MS = 30_000;

/**
 * `sh -c SCRIPT sh <unit>...`: one line per unit, `<unit> <cpu usec> <memory.current> <anon> <inactive_file> <rss bytes>`,
 * `-` for what the cgroup does not have (no memory controller: memory.current is missing, the processes' RSS
 * stands in). A unit that is not running has no cgroup: all `-`.
 */
export const STATS_SCRIPT = `PATH=/usr/sbin:/usr/bin:/sbin:/bin; export PATH
for u in "$@"; do
  cg="$(systemctl show -P ControlGroup "$u" 2>/dev/null)"
  d="/sys/fs/cgroup$cg"
  if [ -z "$cg" ] || [ ! -f "$d/cgroup.procs" ]; then echo "$u - - - - -"; continue; fi
  cpu="$(sed -n 's/^usage_usec //p' "$d/cpu.stat" 2>/dev/null)"
  mem="$(cat "$d/memory.current" 2>/dev/null)"
  anon="$(sed -n 's/^anon //p' "$d/memory.stat" 2>/dev/null)"
  inactive="$(sed -n 's/^inactive_file //p' "$d/memory.stat" 2>/dev/null)"
  rss=0
  for p in $(cat "$d/cgroup.procs" 2>/dev/null); do
    kb="$(sed -n 's/^VmRSS:[^0-9]*\\([0-9]*\\) kB/\\1/p' "/proc/$p/status" 2>/dev/null)"
    rss=$((rss + \${kb:-0}))
  done
  echo "$u \${cpu:--} \${mem:--} \${anon:--} \${inactive:--} $((rss * 1024))"
done
`;

export function statsArgv(units: readonly string[]): string[] {
  return [SH, '-c', STATS_SCRIPT, 'sh', ...units];
}

/** The script's lines, keyed by unit; a line that is not the script's shape is ignored. */
export function parseStatsLines(stdout: string): Map<string, AppStats> {
  const out = new Map<string, AppStats>();
  const n = (v: string | undefined): number | undefined => (v !== undefined && /^[0-9]+$/.test(v) ? Number(v) : undefined);
  for (const line of stdout.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length !== 6 || f[0] === undefined) continue;
    const [cpuUs, current, anon, inactive, rss] = f.slice(1).map(n);
    if (cpuUs === undefined) {
      out.set(f[0], { running: false });
      continue;
    }
    const s: AppStats = { running: true, cpuUsageNs: cpuUs * 1000 };
    if (current !== undefined) {
      s.memoryUsageBytes = current;
      // kubelet's working set: what the app cannot give back without swapping
      s.workingSetBytes = Math.max(0, current - (inactive ?? 0));
      if (anon !== undefined) s.rssBytes = anon;
    } else if (rss !== undefined) {
      s.memoryUsageBytes = rss;
      s.workingSetBytes = rss;
      s.rssBytes = rss;
    }
    out.set(f[0], s);
  }
  return out;
}

export async function podStats<S>(flavor: AppFlavor<S>, uuid: string, debug: boolean, podDir: string): Promise<PodStats> {
  const rec = await readStage1Record(podDir, flavor.traits.record);
  if (rec === undefined) throw new RktError('POD_STATE', `pod ${uuid} has no ${flavor.traits.record.flavor} stage1 record: it never finished starting`);
  const apps = Object.keys(rec.apps);
  const units = apps.map(appServiceName);
  const r = await flavor.execInPod(podDir, rec, statsArgv(units), { timeoutMs: STATS_MS });
  debugLog(debug, `stats of ${apps.length} app(s) -> ${r.code}`);
  if (r.code !== 0) throw new RktError('STAGE1', `cannot read the apps' usage in pod ${uuid}: ${lastLine(r.stderr) || `exit status ${r.code}`}`);
  const byUnit = parseStatsLines(r.stdout);
  const out: PodStats = { timestampNs: String(BigInt(Date.now()) * 1_000_000n), apps: {} };
  apps.forEach((a, i) => { out.apps[a] = byUnit.get(units[i] as string) ?? { running: false }; });
  return out;
}
