// Public API of the appc schema package: manifest types, parsers, serializers, name rules, labels,
// isolators and resource quantities. Import from here, not from the modules behind it.

/** The appc spec version our manifests declare. */
export const AC_VERSION = '0.8.11';

export type {
  Annotation, App, Dependency, EnvironmentVariable, EventHandler, EventHandlerName, ExposedPort, ImageManifest, Label,
  Mount, MountPoint, PodManifest, Port, RuntimeApp, RuntimeImage, Volume, VolumeKind,
} from './types.js';

export { parseImageManifest } from './image-manifest.js';
export { parsePodManifest, type ParsePodManifestOptions } from './pod-manifest.js';
export { serializeImageManifest, serializePodManifest } from './serialize.js';
export { volumeFromString } from './volume-string.js';

export {
  AC_IDENTIFIER_RULE, AC_NAME_RULE, FULL_IMAGE_ID, defaultAppName, isACIdentifier, isACName, sanitizeACName,
  validateACIdentifier, validateACName,
} from './names.js';

export {
  VALID_OS_ARCH, annotationValue, hostOsArch, isRfc3339, labelValue, labelsFromRecord, labelsToRecord, osArchProblem,
} from './labels.js';

export {
  capsRemoveIsolator, capsRetainIsolator, cpuIsolator, cpuSharesIsolator, makeIsolator, memoryIsolator,
  noNewPrivilegesIsolator, oomScoreAdjIsolator, seccompIsolator, sysctlIsolator,
} from './isolator-constructors.js';

export {
  KNOWN_ISOLATORS, findIsolator, isIsolator, isKnownIsolatorName,
  type CapabilitySet, type Isolator, type IsolatorName, type IsolatorValues, type ResourceDefaultLimit,
  type ResourceLimits, type SeccompSet, type SelinuxContext, type TypedIsolator,
} from './isolators.js';

export { QUANTITY_RULE, parseResourceQuantity, type ResourceQuantity } from './quantity.js';
