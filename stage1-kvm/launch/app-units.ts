// The guest's systemd units: the per-app units (flavor-neutral, shared with the nspawn stage1 through
// common/units when present) plus the kvm glue: status files on the shared tree, "first failed" record,
// and power-off once every app has exited (the VM's equivalent of nspawn exiting).
import fs from 'node:fs/promises';
import path from 'node:path';
import type { App } from '../../common/appc/index.js';
import { stage1RootfsPath } from '../../common/pod-layout.js';

export interface AppUnitInput {
  name: string;
  app: App;
}

const UNIT_DIR = 'etc/systemd/system';

function q(s: string): string {
  // systemd's command-line quoting: double quotes, with \ and " and % and $ escaped
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%').replace(/\$/g, '$$$$')}"`;
}

export function appUnitName(app: string): string {
  return `rkt-app-${app}.service`;
}

/** Shell run after each app (ExecStopPost, privileged, outside the app's root): record its status, maybe power off. */
export function stopPostScript(app: string): string {
  return [
    'case "$EXIT_CODE" in exited) s=$EXIT_STATUS ;; killed|dumped) s=$((128 + $(kill -l "$EXIT_STATUS"))) ;; *) s=255 ;; esac',
    `echo "$s" > /rkt/status/${app}.tmp && mv -f /rkt/status/${app}.tmp /rkt/status/${app}`,
    `if [ "$s" != 0 ] && [ ! -e /rkt/first-failed ]; then echo ${app} > /rkt/first-failed; fi`,
    'exec /bin/systemctl --no-block start rkt-pod-exit.service',
  ].join('; ');
}

export function appUnit(a: AppUnitInput): string {
  const root = `/opt/stage2/${a.name}/rootfs`;
  return [
    '[Unit]',
    `Description=rkt app ${a.name}`,
    'After=local-fs.target',
    '',
    '[Service]',
    'Type=exec',
    `RootDirectory=${root}`,
    'MountAPIVFS=yes',
    `WorkingDirectory=${a.app.workingDirectory}`,
    `EnvironmentFile=-/rkt/env/${a.name}`,
    `User=${a.app.user}`,
    `Group=${a.app.group}`,
    `ExecStart=${a.app.exec.map(q).join(' ')}`,
    `ExecStopPost=+/bin/sh -c ${q(stopPostScript(a.name))}`,
    `SyslogIdentifier=${a.name}`,
    'StandardOutput=journal+console',
    'StandardError=journal+console',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/** Powers the VM off once every app has a status file (the pod is done), as nspawn exits with its apps. */
export function podExitUnit(apps: readonly string[]): string {
  const all = apps.map((a) => `[ -e /rkt/status/${a} ]`).join(' && ');
  return [
    '[Unit]',
    'Description=rkt pod exit when all apps have exited',
    'DefaultDependencies=no',
    '',
    '[Service]',
    'Type=oneshot',
    `ExecStart=/bin/sh -c ${q(`if ${all}; then exec /bin/systemctl --no-block poweroff; fi`)}`,
    '',
  ].join('\n');
}

export async function writeAppUnits(podDir: string, apps: readonly AppUnitInput[]): Promise<void> {
  const root = stage1RootfsPath(podDir);
  const dir = path.join(root, UNIT_DIR);
  const wants = path.join(dir, 'multi-user.target.wants');
  await fs.mkdir(wants, { recursive: true });
  for (const a of apps) {
    const env = a.app.environment.map((e) => `${e.name}=${e.value}`).join('\n');
    await fs.mkdir(path.join(root, 'rkt/env'), { recursive: true });
    await fs.writeFile(path.join(root, 'rkt/env', a.name), env === '' ? '' : `${env}\n`);
    await fs.writeFile(path.join(dir, appUnitName(a.name)), appUnit(a));
    await fs.rm(path.join(wants, appUnitName(a.name)), { force: true });
    await fs.symlink(`../${appUnitName(a.name)}`, path.join(wants, appUnitName(a.name)));
  }
  await fs.writeFile(path.join(dir, 'rkt-pod-exit.service'), podExitUnit(apps.map((a) => a.name)));
}
