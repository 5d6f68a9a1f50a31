// `rkt list`: one row per app (pod columns on the first row only), or rkt's api/v1 JSON.
import { RktError } from '../../../common/errors.js';
import { labelValue } from '../../../common/appc/index.js';
import { listPods } from '../../pod/list.js';
import { formatNetworks, podJson, stringifyJson } from '../../pod/json.js';
import { formatGoTime, humanizeSince } from '../../pod/timefmt.js';
import type { PodInfo } from '../../pod/info.js';
import type { CommandModule } from '../registry.js';

interface ListFlags {
  full?: boolean;
  noLegend?: boolean;
  legend?: boolean;
  format?: string;
}

/** Go tabwriter with '\t' padding (minwidth 0, tabwidth 8, padding 1), as rkt printed tables. */
export function tabulate(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) =>
    r
      .map((c, i) => {
        if (i === r.length - 1) return c;
        const w = Math.ceil(((widths[i] ?? 0) + 1) / 8) * 8;
        return c + '\t'.repeat(Math.ceil((w - c.length) / 8));
      })
      .join(''),
  );
}

function imageName(p: PodInfo, app: string): string {
  const ra = p.manifest?.apps.find((a) => a.name === app);
  if (!ra) return '-';
  const version = labelValue(ra.image.labels, 'version');
  const name = ra.image.name ?? ra.image.id;
  return version ? `${name}:${version}` : name;
}

function rowsFor(p: PodInfo, full: boolean, now: Date): string[][] {
  const when = (d: Date | undefined): string => (d ? (full ? formatGoTime(d) : humanizeSince(d, now)) : '');
  const podCols = [full ? p.uuid : p.uuid.slice(0, 8)];
  const tail = [p.state, when(p.created), when(p.started), formatNetworks(p.networks)];
  const apps = p.manifest?.apps ?? [];
  if (apps.length === 0) {
    return [[...podCols, '-', '-', ...(full ? ['-'] : []), ...tail]];
  }
  return apps.map((a, i) => {
    const imageCols = [imageName(p, a.name), ...(full ? [a.image.id.slice(0, 19)] : [])];
    if (i === 0) return [...podCols, a.name, ...imageCols, ...tail];
    return ['', a.name, ...imageCols, '', '', '', ''];
  });
}

export const listCommand: CommandModule = {
  register(parent, bind) {
    parent
      .command('list')
      .description('list pods')
      .option('--full', 'use long output format')
      .option('--no-legend', 'suppress a legend with the list')
      .option('--format <format>', 'choose the output format: json, json-pretty')
      .action(
        bind('list', async (ctx, flags: ListFlags) => {
          const format = flags.format;
          if (format !== undefined && format !== 'json' && format !== 'json-pretty') {
            throw new RktError('USAGE', `invalid --format "${format}": expected json or json-pretty`);
          }
          const pods = await listPods(ctx.globals.dir);
          if (format !== undefined) {
            ctx.output.out(stringifyJson(pods.map(podJson), format === 'json-pretty'));
            return 0;
          }
          const full = flags.full === true;
          const now = new Date();
          const rows: string[][] = [];
          if (flags.legend !== false) {
            rows.push(['UUID', 'APP', 'IMAGE NAME', ...(full ? ['IMAGE ID'] : []), 'STATE', 'CREATED', 'STARTED', 'NETWORKS']);
          }
          for (const p of pods) rows.push(...rowsFor(p, full, now));
          for (const line of tabulate(rows)) ctx.output.out(line.replace(/\t+$/, ''));
          return 0;
        }),
      );
  },
};
