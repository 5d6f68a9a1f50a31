// ListPods' filters over Pod messages: within one filter every set condition must hold, and a pod is
// listed when any filter holds (no filters: every pod). "Any of" for ids, states and cgroups (a pod has one
// of each), "all of" for what a pod has several of (apps, images, networks, annotations, labels).
import type { ApiPod, KeyValue, PodFilter } from './messages.js';

/** Every wanted pair is among `have` (same key, same value). */
export function hasAll(have: readonly KeyValue[], want: readonly KeyValue[]): boolean {
  return want.every((w) => have.some((h) => h.key === w.key && h.value === w.value));
}

const includesAll = (have: readonly string[], want: readonly string[]): boolean => want.every((w) => have.includes(w));

/** `cgroup` is the pod's cgroup or lies below it. */
const isAtOrBelow = (cgroup: string, pod: string): boolean =>
  cgroup === pod || cgroup.startsWith(pod.endsWith('/') ? pod : `${pod}/`);

/**
 * User annotations and labels are given per app by `rkt run`/`prepare` and per pod by `rkt app sandbox`:
 * a pod has those of its own and those of each of its apps.
 */
const userAnnotationsOf = (pod: ApiPod): KeyValue[] => [...pod.user_annotations, ...pod.apps.flatMap((a) => a.user_annotations)];
const userLabelsOf = (pod: ApiPod): KeyValue[] => [...pod.user_labels, ...pod.apps.flatMap((a) => a.user_labels)];

export function podMatches(pod: ApiPod, f: PodFilter): boolean {
  if (f.ids.length > 0 && !f.ids.includes(pod.id)) return false;
  if (f.states.length > 0 && !f.states.includes(pod.state)) return false;
  if (!includesAll(pod.apps.map((a) => a.name), f.app_names)) return false;
  if (!includesAll(pod.apps.map((a) => a.image.id), f.image_ids)) return false;
  if (!includesAll(pod.networks.map((n) => n.name), f.network_names)) return false;
  if (!hasAll(pod.annotations, f.annotations)) return false;
  if (!hasAll(userAnnotationsOf(pod), f.user_annotations)) return false;
  if (!hasAll(userLabelsOf(pod), f.user_labels)) return false;
  if (f.cgroups.length > 0 && (pod.cgroup === '' || !f.cgroups.includes(pod.cgroup))) return false;
  if (f.pod_sub_cgroups.length > 0 && (pod.cgroup === '' || !f.pod_sub_cgroups.some((c) => isAtOrBelow(c, pod.cgroup)))) return false;
  return true;
}

export function podMatchesAny(pod: ApiPod, filters: readonly PodFilter[]): boolean {
  return filters.length === 0 || filters.some((f) => podMatches(pod, f));
}
