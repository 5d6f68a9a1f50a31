// `rkt status`: key=value lines (or api/v1 JSON) about one pod; --wait / --wait-ready poll first.
import { RktError } from '../../../common/errors.js';
import { isSupervisorReady, readPodInfo, type PodInfo } from '../../pod/info.js';
import { formatNetworks, podJson, stringifyJson } from '../../pod/json.js';
import { probePod, requirePod } from '../../pod/state.js';
import { formatGoTime, parseDuration } from '../../pod/timefmt.js';
import { podArgument } from '../../pod/uuid.js';
import type { CommandModule } from '../registry.js';

interface StatusFlags {
  wait?: string | boolean;
  waitReady?: string | boolean;
  format?: string;
  uuidFile?: string;
}

const POLL_MS = 100;

/** --wait / --wait-ready values: absent, bare (forever), true/false, or a duration. */
function waitSpec(v: string | boolean | undefined, flag: string): { wait: boolean; timeoutMs?: number } {
  if (v === undefined || v === false || v === 'false') return { wait: false };
  if (v === true || v === 'true') return { wait: true };
  const ms = parseDuration(v, flag);
  return ms === 0 ? { wait: true } : { wait: true, timeoutMs: ms };
}

function isWaitValue(v: string): boolean {
  return v === 'true' || v === 'false' || /^([0-9]*\.?[0-9]+(ns|us|µs|ms|s|m|h))+$|^0$/.test(v);
}

async function waitFor(test: () => Promise<boolean>, timeoutMs: number | undefined, what: string): Promise<void> {
  const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
  while (!(await test())) {
    if (deadline !== undefined && Date.now() >= deadline) throw new RktError('POD_STATE', `timed out waiting for the pod to ${what}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

export function statusLines(p: PodInfo): string[] {
  const lines = [`state=${p.state}`];
  if (p.created) lines.push(`created=${formatGoTime(p.created)}`);
  if (p.started) lines.push(`started=${formatGoTime(p.started)}`);
  if (p.state === 'running' || p.state === 'exited') lines.push(`networks=${formatNetworks(p.networks, ',')}`);
  if (p.pid !== undefined) lines.push(`pid=${p.pid}`);
  const exited = p.state === 'exited' || p.state === 'exited garbage' || p.state === 'exited deleting';
  lines.push(`exited=${exited}`);
  if (p.state !== 'running') {
    for (const a of p.apps) if (a.exitCode !== undefined) lines.push(`app-${a.name}=${a.exitCode}`);
  }
  return lines;
}

export const statusCommand: CommandModule = {
  register(parent, bind) {
    parent
      .command('status')
      .description('check the status of a rkt pod')
      .argument('[uuid]', 'pod uuid or unique prefix')
      .option('--wait [duration]', 'toggle waiting for the pod to exit (true, false or a timeout such as 10s)')
      .option('--wait-ready [duration]', 'toggle waiting until the pod is ready (true, false or a timeout)')
      .option('--format <format>', 'choose the output format: json, json-pretty')
      .option('--uuid-file <file>', 'read pod UUID from file instead of argument')
      .action(
        bind('status', async (ctx, uuidArg: string | undefined, flags: StatusFlags) => {
          if (flags.format !== undefined && flags.format !== 'json' && flags.format !== 'json-pretty') {
            throw new RktError('USAGE', `invalid --format "${flags.format}": expected json or json-pretty`);
          }
          // `--wait UUID`: commander takes UUID as the optional value; give it back.
          for (const key of ['wait', 'waitReady'] as const) {
            const v = flags[key];
            if (typeof v === 'string' && uuidArg === undefined && !isWaitValue(v)) {
              uuidArg = v;
              flags[key] = true;
            }
          }
          const wait = waitSpec(flags.wait, '--wait');
          const ready = waitSpec(flags.waitReady, '--wait-ready');
          const dataDir = ctx.globals.dir;
          const uuid = await podArgument(dataDir, uuidArg, flags.uuidFile);
          await requirePod(dataDir, uuid);
          if (ready.wait) {
            await waitFor(async () => {
              const s = await probePod(dataDir, uuid);
              if (!s) throw new RktError('POD_NOT_FOUND', `pod ${uuid} disappeared`);
              if (s.state !== 'running' && s.state !== 'preparing' && s.state !== 'prepared') {
                throw new RktError('POD_STATE', `pod ${uuid} is ${s.state}; it will not become ready`);
              }
              return s.state === 'running' && (await isSupervisorReady(s.dir));
            }, ready.timeoutMs, 'become ready');
          }
          if (wait.wait) {
            await waitFor(async () => {
              const s = await probePod(dataDir, uuid);
              return s === undefined || (s.state !== 'running' && s.state !== 'preparing' && s.state !== 'embryo' && s.state !== 'prepared');
            }, wait.timeoutMs, 'exit');
          }
          const snap = await requirePod(dataDir, uuid);
          const info = await readPodInfo(snap);
          if (flags.format !== undefined) ctx.output.out(stringifyJson(podJson(info), flags.format === 'json-pretty'));
          else for (const l of statusLines(info)) ctx.output.out(l);
          return 0;
        }),
      );
  },
};
