// Public API of the unit generator shared by the stage1s: from pod + image manifests to the systemd units,
// env files and reaper that run a pod's apps under the pod's systemd. See README.md.
export { buildAppUnitSpec, podVolumes, resolveExecInRoot, DEFAULT_PATH, type AppBind, type AppSpecOptions, type AppUnitSpec } from './app-spec.js';
export { appEnvInPod, appRootInPod, appSandboxProperties, appServiceUnit, appSliceUnit, cpuSharesToWeight } from './app-unit.js';
export { appCapabilities, capabilityMask, CAPABILITY_NUMBERS, DEFAULT_APP_CAPABILITIES } from './capabilities.js';
export { appSeccompFilter, DEFAULT_SECCOMP_DENY, type SeccompFilter } from './seccomp.js';
export { appFiles, podUnitFiles, writePodFiles, READY_UNIT, REAPER_SCRIPT, UNIT_DIR, type PodFile } from './pod-units.js';
export {
  appServiceName, appSliceName, escapeUnitComponent, execLine, parseEnvFile, quoteWord, renderEnvFile, renderUnit,
  type UnitProperty,
} from './unit-file.js';
export { ensureStage1Accounts, resolveAppIdentity, type AppIdentity } from './users.js';
export { readFileInRoot, replaceFileInRoot, resolveInRoot } from '../../common/in-root.js';
export { metadataHostAddress, metadataUrl } from './metadata-url.js';
export { podVolumeSeeds, prepareEmptyVolume, shiftId, SEED_VOLUMES_ANNOTATION, type EmptyVolumeOptions, type IdRange, type VolumeSeed } from './seed-volumes.js';
export { appStopSignal, parseSignal, STOP_SIGNAL_ANNOTATION } from './stop-signal.js';
export { enterProfileFor, resolveEnterCommand, transientEnterArgv, type EnterProfile } from './enter.js';
export { appStdinFifo, attachableStdin, attachStdinArgv, stdinHolderName, stdinHolderUnit, type AppStdin } from './stdin.js';
