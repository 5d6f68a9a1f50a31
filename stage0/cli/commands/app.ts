// `rkt app ...`: mutable pods. `sandbox` starts a pod with no apps (and becomes its stage1, as run does);
// `add/start/stop/rm` change a running sandbox's apps through its stage1; `list/status` read its files.
import type { Command } from 'commander';
import { RktError } from '../../../common/errors.js';
import { addApp } from '../../app/add.js';
import { readAppStatus, type AppStatus } from '../../app/app-state.js';
import { removeApp, startApp, stopApp } from '../../app/control.js';
import { readPodManifestFile } from '../../pod/info.js';
import { handOverToStage1 } from '../../pod/handover.js';
import { stringifyJson } from '../../pod/json.js';
import { abandon, preparePod } from '../../pod/prepare.js';
import { requirePod } from '../../pod/state.js';
import { formatGoTime, unixNanos } from '../../pod/timefmt.js';
import { movePod } from '../../pod/transitions.js';
import { resolvePodUuid } from '../../pod/uuid.js';
import { parsePodArgs } from '../app-args.js';
import type { CommandContext } from '../../context/context.js';
import { endProgress } from '../../context/output.js';
import type { ActionBinder, CommandModule } from '../registry.js';
import { tabulate } from './list.js';
import { rawArgsCommand } from './pod-args-command.js';

/** Seconds `rkt app stop` waits after the stop signal before SIGKILL, unless --timeout says otherwise. */
const DEFAULT_STOP_TIMEOUT_S = 10;

function checkFormat(format: string | undefined): void {
  if (format !== undefined && format !== 'json' && format !== 'json-pretty') {
    throw new RktError('USAGE', `invalid --format "${format}": expected json or json-pretty`);
  }
}

function requireAppFlag(app: string | undefined, verb: string): string {
  if (app === undefined || app === '') throw new RktError('USAGE', `rkt app ${verb} needs --app=NAME`, { hint: `usage: rkt app ${verb} UUID --app=NAME` });
  return app;
}

function parseTimeout(v: string | undefined): number {
  if (v === undefined) return DEFAULT_STOP_TIMEOUT_S;
  const m = /^([0-9]+)(s?)$/.exec(v);
  if (!m) throw new RktError('USAGE', `invalid --timeout "${v}": expected whole seconds, such as 10 or 10s`);
  return Number(m[1]);
}

const ns = (d: Date | undefined): bigint | undefined => (d === undefined ? undefined : unixNanos(d));

/** rkt's api/v1 app object, plus this project's per-run history. */
function appJson(s: AppStatus): Record<string, unknown> {
  const j: Record<string, unknown> = { name: s.name, state: s.state, image_id: s.imageId };
  if (s.createdAt) j['created_at'] = ns(s.createdAt);
  if (s.startedAt) j['started_at'] = ns(s.startedAt);
  if (s.finishedAt) j['finished_at'] = ns(s.finishedAt);
  if (s.exitCode !== undefined) j['exit_code'] = s.exitCode;
  j['starts'] = s.starts;
  j['runs'] = s.runs.map((r) => ({
    started_at: ns(r.startedAt), finished_at: ns(r.finishedAt), exit_code: r.exitCode, ...(r.invocationId ? { invocation_id: r.invocationId } : {}),
  }));
  return j;
}

function statusLines(s: AppStatus): string[] {
  const lines = [`name=${s.name}`, `state=${s.state}`, `image_id=${s.imageId}`];
  if (s.createdAt) lines.push(`created_at=${formatGoTime(s.createdAt)}`);
  if (s.startedAt) lines.push(`started_at=${formatGoTime(s.startedAt)}`);
  if (s.finishedAt) lines.push(`finished_at=${formatGoTime(s.finishedAt)}`);
  if (s.exitCode !== undefined) lines.push(`exit_code=${s.exitCode}`);
  lines.push(`starts=${s.starts}`);
  return lines;
}

async function appStatuses(ctx: CommandContext, uuidArg: string): Promise<{ uuid: string; apps: AppStatus[] }> {
  const uuid = await resolvePodUuid(ctx.globals.dir, uuidArg);
  const snap = await requirePod(ctx.globals.dir, uuid);
  const manifest = await readPodManifestFile(snap.dir);
  const apps = manifest ? await Promise.all(manifest.apps.map((a) => readAppStatus(snap.dir, snap.state, manifest, a.name))) : [];
  return { uuid, apps };
}

function registerSandbox(app: Command, bind: ActionBinder): void {
  rawArgsCommand(app, 'sandbox', 'app-sandbox', 'start a mutable pod with no apps; it runs until stopped', '[pod flags]').action(
    bind('app sandbox', async (ctx, raw: string[]) => {
      const p = parsePodArgs('app-sandbox', raw);
      const pod = await preparePod(ctx, p);
      try {
        await movePod(ctx.globals.dir, pod.lock, 'run');
        endProgress();
        // The uuid first, on its own line: the sandbox then becomes its stage1 and keeps this stdout.
        ctx.output.out(pod.uuid);
        return await handOverToStage1(ctx, pod.lock, p);
      } catch (err) {
        await abandon(ctx, pod.lock);
        throw err;
      }
    }),
  );
}

function registerAdd(app: Command, bind: ActionBinder): void {
  rawArgsCommand(app, 'add', 'app-add', 'add an app to a running mutable pod (it is not started)', 'UUID IMAGE [app flags] [-- image-args ---]').action(
    bind('app add', async (ctx, raw: string[]) => {
      const p = parsePodArgs('app-add', raw);
      const uuid = await resolvePodUuid(ctx.globals.dir, p.uuid ?? '');
      await addApp(ctx, uuid, p);
      endProgress();
      return 0;
    }),
  );
}

function registerControl(app: Command, bind: ActionBinder): void {
  app.command('start').description('start an app of a mutable pod').argument('<uuid>', 'pod uuid or unique prefix')
    .option('--app <name>', 'the app to start')
    .action(bind('app start', async (ctx, uuidArg: string, f: { app?: string }) => {
      await startApp(ctx, await resolvePodUuid(ctx.globals.dir, uuidArg), requireAppFlag(f.app, 'start'));
      return 0;
    }));
  app.command('stop').description('stop an app of a mutable pod (its stop signal, then SIGKILL after --timeout)').argument('<uuid>', 'pod uuid or unique prefix')
    .option('--app <name>', 'the app to stop')
    .option('--timeout <seconds>', `seconds to wait after the stop signal before SIGKILL (default ${DEFAULT_STOP_TIMEOUT_S})`)
    .action(bind('app stop', async (ctx, uuidArg: string, f: { app?: string; timeout?: string }) => {
      const name = requireAppFlag(f.app, 'stop');
      const uuid = await resolvePodUuid(ctx.globals.dir, uuidArg);
      if (!(await stopApp(ctx, uuid, name, parseTimeout(f.timeout)))) ctx.output.warn(`app "${name}" is not running`);
      return 0;
    }));
  app.command('rm').description('remove a stopped app from a mutable pod (its tree and units; the pod keeps running)').argument('<uuid>', 'pod uuid or unique prefix')
    .option('--app <name>', 'the app to remove')
    .action(bind('app rm', async (ctx, uuidArg: string, f: { app?: string }) => {
      await removeApp(ctx, await resolvePodUuid(ctx.globals.dir, uuidArg), requireAppFlag(f.app, 'rm'));
      return 0;
    }));
}

function registerQueries(app: Command, bind: ActionBinder): void {
  app.command('list').description('list the apps of a pod').argument('<uuid>', 'pod uuid or unique prefix')
    .option('--no-legend', 'suppress a legend with the list')
    .option('--format <format>', 'choose the output format: json, json-pretty')
    .action(bind('app list', async (ctx, uuidArg: string, f: { legend?: boolean; format?: string }) => {
      checkFormat(f.format);
      const { apps } = await appStatuses(ctx, uuidArg);
      if (f.format !== undefined) {
        ctx.output.out(stringifyJson(apps.map(appJson), f.format === 'json-pretty'));
        return 0;
      }
      const rows = apps.map((a) => [a.name, a.state]);
      for (const l of tabulate(f.legend === false ? rows : [['NAME', 'STATE'], ...rows])) ctx.output.out(l);
      return 0;
    }));
  app.command('status').description('show the status of one app of a pod').argument('<uuid>', 'pod uuid or unique prefix')
    .option('--app <name>', 'the app')
    .option('--format <format>', 'choose the output format: json, json-pretty')
    .action(bind('app status', async (ctx, uuidArg: string, f: { app?: string; format?: string }) => {
      checkFormat(f.format);
      const name = requireAppFlag(f.app, 'status');
      const { uuid, apps } = await appStatuses(ctx, uuidArg);
      const s = apps.find((a) => a.name === name);
      if (!s) throw new RktError('APP_NOT_FOUND', `pod ${uuid} has no app "${name}" (apps: ${apps.map((a) => a.name).join(', ') || 'none'})`);
      if (f.format !== undefined) ctx.output.out(stringifyJson(appJson(s), f.format === 'json-pretty'));
      else for (const l of statusLines(s)) ctx.output.out(l);
      return 0;
    }));
}

export const appCommand: CommandModule = {
  register(parent, bind) {
    const app = parent.command('app').description('operate on the apps of a mutable pod (rkt app sandbox)');
    registerSandbox(app, bind);
    registerAdd(app, bind);
    registerControl(app, bind);
    registerQueries(app, bind);
  },
};
