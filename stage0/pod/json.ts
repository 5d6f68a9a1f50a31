// rkt's api/v1 JSON view of a pod (`list --format=json`, `status --format=json`); times are ns since the epoch.
import type { PodInfo } from './info.js';

export interface PodJsonApp {
  name: string;
  state: 'created' | 'running' | 'exited' | 'unknown';
  exit_code?: number;
  image_id: string;
  mounts?: { volume: string; path: string }[];
  user_annotations?: Record<string, string>;
  user_labels?: Record<string, string>;
}

export interface PodJson {
  name: string;
  state: string;
  networks?: { netName: string; ifName?: string; ip?: string }[];
  app_names?: string[];
  apps?: PodJsonApp[];
  pid?: number;
  created_at?: bigint;
  started_at?: bigint;
  user_annotations?: Record<string, string>;
  user_labels?: Record<string, string>;
}

const ns = (d: Date): bigint => BigInt(d.getTime()) * 1_000_000n;

export function podJson(p: PodInfo): PodJson {
  const j: PodJson = { name: p.uuid, state: p.state };
  if (p.networks.length > 0) j.networks = p.networks;
  if (p.manifest) {
    j.app_names = p.manifest.apps.map((a) => a.name);
    j.apps = p.manifest.apps.map((a) => {
      const info = p.apps.find((x) => x.name === a.name);
      const app: PodJsonApp = { name: a.name, state: info?.state ?? 'unknown', image_id: a.image.id };
      if (info?.exitCode !== undefined) app.exit_code = info.exitCode;
      if (a.mounts.length > 0) app.mounts = a.mounts.map((m) => ({ volume: m.volume, path: m.path }));
      const ua = a.app?.userAnnotations;
      const ul = a.app?.userLabels;
      if (ua && Object.keys(ua).length > 0) app.user_annotations = ua;
      if (ul && Object.keys(ul).length > 0) app.user_labels = ul;
      return app;
    });
    if (p.manifest.userAnnotations && Object.keys(p.manifest.userAnnotations).length > 0) j.user_annotations = p.manifest.userAnnotations;
    if (p.manifest.userLabels && Object.keys(p.manifest.userLabels).length > 0) j.user_labels = p.manifest.userLabels;
  }
  if (p.pid !== undefined) j.pid = p.pid;
  if (p.created) j.created_at = ns(p.created);
  if (p.started) j.started_at = ns(p.started);
  return j;
}

/** JSON.stringify that writes bigints as bare integers. */
export function stringifyJson(v: unknown, pretty: boolean): string {
  const text = JSON.stringify(v, (_k, val: unknown) => (typeof val === 'bigint' ? `@@bigint:${val.toString()}@@` : val), pretty ? '\t' : undefined);
  return text.replace(/"@@bigint:(-?[0-9]+)@@"/g, '$1');
}

/** "name:ip4=IP" joined with ", " (rkt's fmtNets). */
export function formatNetworks(nets: PodInfo['networks'], sep = ', '): string {
  return nets.map((n) => `${n.netName}:ip4=${n.ip ?? ''}`).join(sep);
}
