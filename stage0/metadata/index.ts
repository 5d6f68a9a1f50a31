// Public API of the appc metadata service: the service itself (for `rkt metadata-service`) and the
// registration client stage0 uses (`run --mds-register`, `gc`). See docs/metadata-service.md.
export {
  CONTENT_TYPE_JSON, CONTENT_TYPE_TEXT, MDS_API_PREFIX, MDS_DEFAULT_PORT, MDS_REGISTERED_FILE, mdsPublicUrl,
  mdsRegisteredPath, mdsSocketPath,
} from './constants.js';
export {
  newMdsToken, readMdsRegistered, registerPod, registerPodWithService, unregisterPod, unregisterPodWithService,
  type MdsRegisteredMarker, type MdsRegistration, type RegisterPodOptions, type UnregisterPodOptions,
} from './client.js';
export { startMetadataService, type MetadataServiceOptions, type RunningMetadataService } from './server.js';
export type { PodRegistration } from './pod-registry.js';
