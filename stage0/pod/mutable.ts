// Whether a pod takes apps while it runs (`rkt app sandbox`): rkt's pod annotation, "true" or "false".
import type { PodManifest } from '../../common/appc/index.js';

export const MUTABLE_ANNOTATION = 'coreos.com/rkt/stage1/mutable';

export function isMutablePod(m: PodManifest): boolean {
  return m.annotations.some((a) => a.name === MUTABLE_ANNOTATION && a.value === 'true');
}
