// `rkt image list`: the images in the store, as a table or JSON.
import type { Command } from 'commander';
import { RktError } from '../../../common/errors.js';
import { openStore, type ImageInfo } from '../../store/index.js';
import type { ActionBinder } from '../registry.js';
import { formatAbsolute, formatTable, humanizeAgo, humanizeBytes } from './image-list-format.js';

const FIELDS = ['id', 'name', 'size', 'importtime', 'lastused'] as const;
type Field = (typeof FIELDS)[number];
const HEADERS: Record<Field, string> = { id: 'ID', name: 'NAME', size: 'SIZE', importtime: 'IMPORT TIME', lastused: 'LAST USED' };
const SORTS = ['importtime', 'lastused', 'name', 'size'] as const;
type Sort = (typeof SORTS)[number];

interface Flags {
  fields: string;
  sort: string;
  order: string;
  full?: boolean;
  legend: boolean;
  format?: string;
}

interface ListOptions {
  fields: Field[];
  sort: Sort;
  desc: boolean;
  full: boolean;
  legend: boolean;
  format: 'table' | 'json' | 'json-pretty';
}

function oneOf<T extends string>(what: string, value: string, allowed: readonly T[]): T {
  const v = value.trim().toLowerCase();
  if ((allowed as readonly string[]).includes(v)) return v as T;
  throw new RktError('USAGE', `invalid ${what} "${value}"`, { hint: `expected one of ${allowed.join(', ')}` });
}

function normalize(f: Flags): ListOptions {
  const fields = f.fields.split(',').filter((s) => s.trim() !== '').map((s) => oneOf('--fields value', s, FIELDS));
  if (fields.length === 0) throw new RktError('USAGE', '--fields is empty', { hint: `expected some of ${FIELDS.join(', ')}` });
  const format = f.format === undefined ? 'table' : oneOf('--format', f.format, ['json', 'json-pretty'] as const);
  return {
    fields,
    sort: oneOf('--sort', f.sort, SORTS),
    desc: oneOf('--order', f.order, ['asc', 'desc'] as const) === 'desc',
    full: f.full === true,
    legend: f.legend,
    format,
  };
}

export function displayName(i: ImageInfo): string {
  const v = i.labels['version'];
  return v === undefined ? i.name : `${i.name}:${v}`;
}

function compare(a: ImageInfo, b: ImageInfo, sort: Sort): number {
  switch (sort) {
    case 'importtime':
      return a.importTime.getTime() - b.importTime.getTime();
    case 'lastused':
      return a.lastUsed.getTime() - b.lastUsed.getTime();
    case 'size':
      return a.size - b.size;
    case 'name':
      return displayName(a) < displayName(b) ? -1 : displayName(a) > displayName(b) ? 1 : 0;
  }
}

function cell(i: ImageInfo, field: Field, full: boolean, now: Date): string {
  switch (field) {
    case 'id':
      return full ? i.id : i.id.slice(0, 'sha512-'.length + 32);
    case 'name':
      return displayName(i);
    case 'size':
      return full ? String(i.size) : humanizeBytes(i.size);
    case 'importtime':
      return full ? formatAbsolute(i.importTime) : humanizeAgo(i.importTime, now);
    case 'lastused':
      return full ? formatAbsolute(i.lastUsed) : humanizeAgo(i.lastUsed, now);
  }
}

const toNs = (d: Date): number => d.getTime() * 1e6;

export function registerImageList(image: Command, bind: ActionBinder): void {
  image
    .command('list')
    .description('list images in the local store')
    .option('--fields <list>', `comma-separated fields: ${FIELDS.join(',')}`, FIELDS.join(','))
    .option('--sort <field>', `sort by ${SORTS.join(', ')}`, 'importtime')
    .option('--order <order>', 'asc or desc', 'asc')
    .option('--full', 'print full image IDs, exact sizes and absolute times')
    .option('--no-legend', 'do not print the header line')
    .option('--format <format>', 'json or json-pretty')
    .action(
      bind('image list', async (ctx, flags: Flags) => {
        const o = normalize(flags);
        const store = await openStore(ctx.globals.dir);
        const images = (await store.listImages()).sort((a, b) => {
          const c = compare(a, b, o.sort) || (a.id < b.id ? -1 : 1);
          return o.desc ? -c : c;
        });
        if (o.format !== 'table') {
          const json = images.map((i) => ({ id: i.id, name: displayName(i), import_time: toNs(i.importTime), last_used_time: toNs(i.lastUsed), size: i.size }));
          ctx.output.out(o.format === 'json' ? JSON.stringify(json) : JSON.stringify(json, null, '\t'));
          return 0;
        }
        const now = new Date();
        const rows: string[][] = [];
        if (o.legend) rows.push(o.fields.map((f) => HEADERS[f]));
        for (const i of images) rows.push(o.fields.map((f) => cell(i, f, o.full, now)));
        for (const line of formatTable(rows)) ctx.output.out(line);
        return 0;
      }),
    );
}
