// Tells systemd a Type=notify service is ready, when systemd asked (NOTIFY_SOCKET is set).
import { spawn } from 'node:child_process';

export function notifyReady(debug: (line: string) => void, env: NodeJS.ProcessEnv = process.env): void {
  if (env['NOTIFY_SOCKET'] === undefined) return;
  // node has no unix datagram sockets; systemd's own helper sends READY=1 (the unit needs NotifyAccess=all).
  const child = spawn('systemd-notify', ['--ready', `--pid=${process.pid}`], { stdio: 'ignore' });
  child.on('error', (e) => debug(`sd_notify failed: ${e.message}`));
}
