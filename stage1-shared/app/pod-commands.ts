// What the app entrypoints ask the pod's systemd, as argv run in the pod (AppFlavor.execInPod). Stopping is
// one pod-side script: polling from the host would cost a guest-agent round trip per poll under kvm.

const SYSTEMCTL = '/usr/bin/systemctl';
export const SH = '/bin/sh';

/** `systemctl is-active` answers in which the unit still has processes or jobs: rkt app calls it running. */
const RUNNING_STATES = new Set(['active', 'activating', 'deactivating', 'reloading', 'refreshing']);

export function isRunningState(isActiveOutput: string): boolean {
  return RUNNING_STATES.has(isActiveOutput.trim());
}

export function isActiveArgv(unit: string): string[] {
  return [SYSTEMCTL, 'is-active', unit];
}

export function daemonReloadArgv(): string[] {
  return [SYSTEMCTL, 'daemon-reload'];
}

export function resetFailedArgv(unit: string): string[] {
  return [SYSTEMCTL, 'reset-failed', unit];
}

/** How the start script ended (its last stdout line). */
export type StartOutcome = 'started' | 'ran' | 'failed';

/**
 * `sh -c SCRIPT sh <unit>`: reset-failed (a failed last run's counters) and start. With Type=exec a main
 * process that exits non-zero before systemd saw its exec succeed fails the start job, so a failed
 * `systemctl start` whose main process was spawned (ExecMainStartTimestampMonotonic moved) and did not fail
 * in systemd's own spawn steps (exit status 200-245: chdir, user, exec...) is an app that ran and exited ("ran").
 */
export const START_SCRIPT = `PATH=/usr/sbin:/usr/bin:/sbin:/bin; export PATH
u="$1"
before="$(systemctl show -P ExecMainStartTimestampMonotonic "$u")"
systemctl reset-failed "$u" 2>/dev/null
systemctl start "$u" && { echo started; exit 0; }
after="$(systemctl show -P ExecMainStartTimestampMonotonic "$u")"
code="$(systemctl show -P ExecMainCode "$u")"; status="$(systemctl show -P ExecMainStatus "$u")"
if [ -n "$after" ] && [ "$after" != 0 ] && [ "$after" != "$before" ]; then
  if [ "$code" != 1 ] || [ "\${status:-0}" -lt 200 ] || [ "\${status:-0}" -gt 245 ]; then echo ran; exit 0; fi
fi
echo failed; exit 1
`;

export function startArgv(unit: string): string[] {
  return [SH, '-c', START_SCRIPT, 'sh', unit];
}

export function parseStartOutcome(stdout: string): StartOutcome | undefined {
  const last = stdout.trim().split('\n').pop()?.trim();
  return last === 'started' || last === 'ran' || last === 'failed' ? last : undefined;
}

/** How the stop script ended (its last stdout line). */
export type StopOutcome = 'not-running' | 'stopped' | 'killed' | 'still-running';

/**
 * `sh -c SCRIPT sh <unit> <timeout s> <reaper unit>`: the unit's own KillSignal (SIGTERM, or an OCI image's
 * StopSignal) to all its processes, as `systemctl stop` would, then SIGKILL once `timeout` seconds passed;
 * waits until the unit is down, then until its reaper has stopped too (up to 30 s), so that the exit status
 * is recorded when the script answers: the reaper is a unit of its own, and on a loaded TCG guest it was
 * seen finishing well after the app's unit was down.
 */
export const STOP_SCRIPT = `PATH=/usr/sbin:/usr/bin:/sbin:/bin; export PATH
u="$1"; t="$2"; r="$3"
busy() { case "$(systemctl is-active "$1" 2>/dev/null)" in active|activating|deactivating|reloading|refreshing) return 0 ;; esac; return 1; }
running() { busy "$u"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
wait_down() { end=$(( $(now_ms) + $1 )); while running; do [ "$(now_ms)" -ge "$end" ] && return 1; sleep 0.05; done; return 0; }
reaped() { [ -z "$r" ] && return 0; end=$(( $(now_ms) + 30000 )); while busy "$r"; do [ "$(now_ms)" -ge "$end" ] && return 0; sleep 0.05; done; return 0; }
running || { reaped; echo not-running; exit 0; }
sig="$(systemctl show -P KillSignal "$u")"
systemctl kill --signal="\${sig:-15}" "$u" || exit 1
wait_down $(( t * 1000 )) && { reaped; echo stopped; exit 0; }
systemctl kill --signal=9 "$u" 2>/dev/null
wait_down 10000 && { reaped; echo killed; exit 0; }
echo still-running; exit 3
`;

export function stopArgv(unit: string, timeoutSeconds: number, reaperUnit: string): string[] {
  return [SH, '-c', STOP_SCRIPT, 'sh', unit, String(timeoutSeconds), reaperUnit];
}

export function parseStopOutcome(stdout: string): StopOutcome | undefined {
  const last = stdout.trim().split('\n').pop()?.trim();
  return last === 'not-running' || last === 'stopped' || last === 'killed' || last === 'still-running' ? last : undefined;
}

/** argv for messages: the scripts are long, their arguments say enough. */
export function describeArgv(argv: readonly string[]): string {
  return argv[0] === SH && argv[1] === '-c' ? `${SH} -c <script> ${argv.slice(4).join(' ')}` : argv.join(' ');
}

/** The last non-empty line of a command's stderr, for a one-line error. */
export function lastLine(text: string): string {
  return text.split('\n').map((l) => l.trim()).filter((l) => l !== '').pop() ?? '';
}
