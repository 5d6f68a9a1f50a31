// Every location inside a pod directory, one function each: the on-disk half of the stage0 <-> stage1 contract.
// Nothing else in the project joins literal pod-dir paths; import these instead.
import path from 'node:path';

/** The pod directories under `<dataDir>/pods/`, one per lifecycle state (see docs/stage1-contract.md). */
export const POD_STATE_DIRS = ['embryo', 'prepare', 'prepared', 'run', 'exited-garbage', 'garbage'] as const;
export type PodStateDir = (typeof POD_STATE_DIRS)[number];

export function podsRoot(dataDir: string): string {
  return path.join(dataDir, 'pods');
}

export function podStateDir(dataDir: string, state: PodStateDir): string {
  return path.join(dataDir, 'pods', state);
}

export function podDirIn(dataDir: string, state: PodStateDir, uuid: string): string {
  return path.join(dataDir, 'pods', state, uuid);
}

/** `<dataDir>/locks/`: global locks (the private-users allocator). */
export function locksDir(dataDir: string): string {
  return path.join(dataDir, 'locks');
}

/** The appc pod manifest (JSON). */
export function podManifestPath(podDir: string): string {
  return path.join(podDir, 'pod');
}

/** Empty file; its mtime is the pod's creation time. */
/**
 * `pod.next`: while `rkt app add` runs, the pod manifest as it will be with the new app (stage1 app/add reads
 * it); renamed over `pod` once the app is in place. A leftover one (a crashed add) is stale and removed.
 */
export function podManifestNextPath(podDir: string): string {
  return path.join(podDir, 'pod.next');
}

/** `app.lck`: flock'ed by stage0 around every change to a running mutable pod's apps (`rkt app ...`). */
export function podAppsLockPath(podDir: string): string {
  return path.join(podDir, 'app.lck');
}

export function podCreatedPath(podDir: string): string {
  return path.join(podDir, 'pod-created');
}

export function stage1Dir(podDir: string): string {
  return path.join(podDir, 'stage1');
}

/** The stage1 image manifest; entrypoints are read from its annotations. */
export function stage1ManifestPath(podDir: string): string {
  return path.join(podDir, 'stage1', 'manifest');
}

/** The stage1 tree (an overlay mount, or a copy with --no-overlay). */
export function stage1RootfsPath(podDir: string): string {
  return path.join(podDir, 'stage1', 'rootfs');
}

/** The image id of the stage1 (stage0 writes it so gc/enter can find the stage1 without the store). */
export function stage1ImageIdPath(podDir: string): string {
  return path.join(podDir, 'stage1', 'image-id');
}

/**
 * Typed JSON the stage1 writes once, describing its flavor (`{"flavor": "nspawn", ...}`); read by the
 * stage1's own gc/stop/enter even after overlays are unmounted. Stage0 never interprets it.
 */
export function stage1FlavorInfoPath(podDir: string): string {
  return path.join(podDir, 'stage1-flavor.json');
}

/** Stage2 root of all apps inside the stage1 tree. */
export function stage2Root(podDir: string): string {
  return path.join(podDir, 'stage1', 'rootfs', 'opt', 'stage2');
}

/** `stage1/rootfs/opt/stage2/<app>`: the app's directory (holds `manifest` and `rootfs/`). */
export function appDir(podDir: string, app: string): string {
  return path.join(podDir, 'stage1', 'rootfs', 'opt', 'stage2', app);
}

export function appRootfsPath(podDir: string, app: string): string {
  return path.join(appDir(podDir, app), 'rootfs');
}

/** The app's image manifest, inside the stage1 tree (what the stage1 reads). */
export function appImageManifestPath(podDir: string, app: string): string {
  return path.join(appDir(podDir, app), 'manifest');
}

/** `appsinfo/<app>/`: stage0's record of each app, outside the stage1 tree (survives unmounts). */
export function appInfoDir(podDir: string, app: string): string {
  return path.join(podDir, 'appsinfo', app);
}

export function appInfoManifestPath(podDir: string, app: string): string {
  return path.join(podDir, 'appsinfo', app, 'manifest');
}

/** `stage1/rootfs/rkt/status/`: one file per app with its decimal exit code. */
export function appStatusDir(podDir: string): string {
  return path.join(podDir, 'stage1', 'rootfs', 'rkt', 'status');
}

export function appStatusPath(podDir: string, app: string): string {
  return path.join(appStatusDir(podDir), app);
}

/**
 * `stage1/rootfs/rkt/started/<app>`: written by stage1 app/start just before the app starts (its mtime is
 * the start time; content: how many times the app was started). Absent for apps started at pod boot.
 */
export function appStartedPath(podDir: string, app: string): string {
  return path.join(podDir, 'stage1', 'rootfs', 'rkt', 'started', app);
}

/**
 * `stage1/rootfs/rkt/history/<app>`: one line per ended run of the app, appended by the pod's reaper:
 * `<started unix seconds> <finished unix seconds> <exit code> <systemd invocation id>`.
 */
export function appHistoryPath(podDir: string, app: string): string {
  return path.join(podDir, 'stage1', 'rootfs', 'rkt', 'history', app);
}

/** The same status file read through the stage1 overlay's upper dir (valid after the overlay is unmounted). */
export function appStatusUpperPath(podDir: string, app: string): string {
  return path.join(overlayUpperPath(podDir, STAGE1_OVERLAY), 'rkt', 'status', app);
}

/** The app's tree as it sits in the stage1 overlay's upper dir: where a copied tree (`rkt app add`) is when that overlay is unmounted. */
export function appRootfsUpperPath(podDir: string, app: string): string {
  return path.join(overlayUpperPath(podDir, STAGE1_OVERLAY), 'opt', 'stage2', app, 'rootfs');
}

/** `stage1/rootfs/rkt/env/<app>`: the app's environment (KEY=VALUE lines), written by stage1, read by enter. */
export function appEnvPath(podDir: string, app: string): string {
  return path.join(podDir, 'stage1', 'rootfs', 'rkt', 'env', app);
}

/** Symlink `-> ready` once the stage1 has started its apps (`rkt status --wait-ready`). */
export function supervisorStatusPath(podDir: string): string {
  return path.join(podDir, 'stage1', 'rootfs', 'rkt', 'supervisor-status');
}

/** PID of the process to enter, decimal + newline (written by stage1). */
export function pidPath(podDir: string): string {
  return path.join(podDir, 'pid');
}

/** PID whose single child is the process to enter (alternative to `pid`). */
export function ppidPath(podDir: string): string {
  return path.join(podDir, 'ppid');
}

/** `<shift>:<count>` when the pod uses --private-users. */
export function privateUsersPath(podDir: string): string {
  return path.join(podDir, 'private-users-prepared');
}

/** JSON `{port, socket}` written by stage0 when the pod registered with the metadata service. */
export function mdsRegisteredPath(podDir: string): string {
  return path.join(podDir, 'mds-registered');
}

/** Networks and IPs (JSON array), written by stage1, read by list/status. */
export function netInfoPath(podDir: string): string {
  return path.join(podDir, 'net-info.json');
}

/** Marker: the pod's trees are overlay mounts (absent with --no-overlay). */
export function overlayPreparedPath(podDir: string): string {
  return path.join(podDir, 'overlay-prepared');
}

/** JSON list of the overlay mounts stage0 made (lower/upper/work/target), so they can be re-made after a reboot. */
export function overlayLayersPath(podDir: string): string {
  return path.join(podDir, 'overlay-layers.json');
}

/** Name of the stage1 tree's overlay under `overlay/`; apps use `app-<name>`. */
export const STAGE1_OVERLAY = 'stage1';

export function appOverlayName(app: string): string {
  return `app-${app}`;
}

export function overlayDir(podDir: string, name: string): string {
  return path.join(podDir, 'overlay', name);
}

export function overlayUpperPath(podDir: string, name: string): string {
  return path.join(podDir, 'overlay', name, 'upper');
}

export function overlayWorkPath(podDir: string, name: string): string {
  return path.join(podDir, 'overlay', name, 'work');
}

/**
 * `export-<pid>`: where `rkt export` (process `pid`) mounts its private read-only view of an app's tree.
 * Inside the pod dir so that a view left by a killed export is unmounted with the pod's other mounts.
 */
export function exportViewPath(podDir: string, pid: number): string {
  return path.join(podDir, `export-${pid}`);
}

/**
 * nspawn --private-users: the ID-mapped bind of an overlay's lower dir. `index` numbers the lowers of an
 * overlay with several (an OCI image's layers, upper first); a single lower has no index.
 */
export function overlayIdmappedPath(podDir: string, name: string, index?: number): string {
  return path.join(podDir, 'overlay', name, index === undefined ? 'idmapped' : `idmapped-${index}`);
}

/** resolv.conf written by stage0 for `--dns` (stage1 bind-mounts it as each app's /etc/resolv.conf). */
export function stage0ResolvConfPath(podDir: string): string {
  return path.join(podDir, 'stage1', 'rootfs', 'etc', 'rkt-resolv.conf');
}

/** hosts written by stage0 for `--hosts-entry` (stage1 bind-mounts it as each app's /etc/hosts). */
export function stage0HostsPath(podDir: string): string {
  return path.join(podDir, 'stage1', 'rootfs', 'etc', 'rkt-hosts');
}

/** The pod's persistent journal directory (`journalctl -D` reads it). */
export function journalDir(podDir: string, machineId: string): string {
  return path.join(podDir, 'stage1', 'rootfs', 'var', 'log', 'journal', machineId);
}

/** The pod's journal root (`var/log/journal`), without the machine-id component. */
export function journalRoot(podDir: string): string {
  return path.join(podDir, 'stage1', 'rootfs', 'var', 'log', 'journal');
}

/** Machine name as registered with machined: `rkt-<uuid>`. */
export function machineName(uuid: string): string {
  return `rkt-${uuid}`;
}

/** The pod's machine-id: the UUID without dashes. */
export function machineId(uuid: string): string {
  return uuid.replace(/-/g, '');
}
