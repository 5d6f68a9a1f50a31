// Requests as proto-loader hands them over, checked into typed values: anything a client can get wrong
// (an unknown enum number, a negative time, a bound after its end) is INVALID_ARGUMENT naming the field.
import { invalidArgument } from '../grpc/status-error.js';
import type { Req } from '../grpc/unary.js';
import { EVENT_TYPES, POD_STATES, type EventFilter, type EventType, type ImageFilter, type KeyValue, type PodFilter, type PodState } from './messages.js';

const isObject = (v: unknown): v is Req => typeof v === 'object' && v !== null && !Array.isArray(v);

function list(v: unknown, field: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw invalidArgument(`${field}: expected a list`);
  return v;
}

export function stringField(r: Req, key: string, field: string): string {
  const v = r[key];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw invalidArgument(`${field}: expected a string`);
  return v;
}

function strings(v: unknown, field: string): string[] {
  return list(v, field).map((s, i) => {
    if (typeof s !== 'string') throw invalidArgument(`${field}[${i}]: expected a string`);
    return s;
  });
}

function keyValueList(v: unknown, field: string): KeyValue[] {
  return list(v, field).map((kv, i) => {
    if (!isObject(kv)) throw invalidArgument(`${field}[${i}]: expected a KeyValue`);
    const key = stringField(kv, 'key', `${field}[${i}].key`);
    if (key === '') throw invalidArgument(`${field}[${i}].key is empty`);
    return { key, value: stringField(kv, 'value', `${field}[${i}].value`) };
  });
}

function enumList<T extends string>(v: unknown, field: string, names: readonly T[], what: string): T[] {
  return list(v, field).map((e, i) => {
    // proto-loader gives known values by name and unknown ones as their number
    if (typeof e === 'string' && (names as readonly string[]).includes(e) && e !== names[0]) return e as T;
    throw invalidArgument(`${field}[${i}]: unknown ${what} ${String(e)} (expected one of ${names.slice(1).join(', ')})`);
  });
}

/** An int64 that holds seconds since the epoch (a decimal string from proto-loader): 0 when unset. */
export function secondsField(r: Req, key: string, field: string): number {
  const v = r[key];
  if (v === undefined || v === null || v === '') return 0;
  const s = typeof v === 'number' ? String(v) : v;
  if (typeof s !== 'string' || !/^-?[0-9]+$/.test(s)) throw invalidArgument(`${field}: expected an integer`);
  const n = Number(s);
  if (n < 0 || !Number.isSafeInteger(n)) throw invalidArgument(`${field}: ${s} is not a time in seconds since the epoch`);
  return n;
}

/** `at`: where the two fields are ("ListImages: filters[0]."); the fields' own names follow it. */
function checkBounds(after: number, before: number, at: string, afterName: string, beforeName: string): void {
  if (after > 0 && before > 0 && before <= after) throw invalidArgument(`${at}${beforeName} (${before}) must be later than ${afterName} (${after})`);
}

function filterObjects(req: Req, rpc: string): Req[] {
  return list(req['filters'], `${rpc}: filters`).map((f, i) => {
    if (!isObject(f)) throw invalidArgument(`${rpc}: filters[${i}]: expected a filter`);
    return f;
  });
}

export function podFilters(req: Req): PodFilter[] {
  return filterObjects(req, 'ListPods').map((f, i) => {
    const at = (k: string): string => `ListPods: filters[${i}].${k}`;
    return {
      ids: strings(f['ids'], at('ids')),
      states: enumList<PodState>(f['states'], at('states'), POD_STATES, 'pod state'),
      app_names: strings(f['app_names'], at('app_names')),
      image_ids: strings(f['image_ids'], at('image_ids')),
      network_names: strings(f['network_names'], at('network_names')),
      annotations: keyValueList(f['annotations'], at('annotations')),
      cgroups: strings(f['cgroups'], at('cgroups')),
      pod_sub_cgroups: strings(f['pod_sub_cgroups'], at('pod_sub_cgroups')),
      user_annotations: keyValueList(f['user_annotations'], at('user_annotations')),
      user_labels: keyValueList(f['user_labels'], at('user_labels')),
    };
  });
}

export function imageFilters(req: Req): ImageFilter[] {
  return filterObjects(req, 'ListImages').map((f, i) => {
    const at = (k: string): string => `ListImages: filters[${i}].${k}`;
    const filter: ImageFilter = {
      ids: strings(f['ids'], at('ids')),
      prefixes: strings(f['prefixes'], at('prefixes')),
      base_names: strings(f['base_names'], at('base_names')),
      keywords: strings(f['keywords'], at('keywords')),
      labels: keyValueList(f['labels'], at('labels')),
      imported_after: secondsField(f, 'imported_after', at('imported_after')),
      imported_before: secondsField(f, 'imported_before', at('imported_before')),
      annotations: keyValueList(f['annotations'], at('annotations')),
      full_names: strings(f['full_names'], at('full_names')),
    };
    checkBounds(filter.imported_after, filter.imported_before, at(''), 'imported_after', 'imported_before');
    return filter;
  });
}

export function eventFilter(req: Req): EventFilter {
  const f = req['filter'];
  if (f === undefined || f === null) return { types: [], ids: [], names: [], since_time: 0, until_time: 0 };
  if (!isObject(f)) throw invalidArgument('ListenEvents: filter: expected an EventFilter');
  const at = (k: string): string => `ListenEvents: filter.${k}`;
  const filter: EventFilter = {
    types: enumList<EventType>(f['types'], at('types'), EVENT_TYPES, 'event type'),
    ids: strings(f['ids'], at('ids')),
    names: strings(f['names'], at('names')),
    since_time: secondsField(f, 'since_time', at('since_time')),
    until_time: secondsField(f, 'until_time', at('until_time')),
  };
  checkBounds(filter.since_time, filter.until_time, at(''), 'since_time', 'until_time');
  return filter;
}

export interface LogsRequest {
  podId: string;
  app?: string;
  lines?: number;
  follow: boolean;
  since?: number;
  until?: number;
}

export function logsRequest(req: Req): LogsRequest {
  const podId = stringField(req, 'pod_id', 'GetLogs: pod_id');
  if (podId === '') throw invalidArgument('GetLogs: pod_id is empty');
  const out: LogsRequest = { podId, follow: req['follow'] === true };
  const app = stringField(req, 'app_name', 'GetLogs: app_name');
  if (app !== '') out.app = app;
  const lines = req['lines'] ?? 0;
  if (typeof lines !== 'number' || !Number.isInteger(lines) || lines < 0) throw invalidArgument(`GetLogs: lines: ${String(lines)} is not a count of lines`);
  if (lines > 0) out.lines = lines;
  const since = secondsField(req, 'since_time', 'GetLogs: since_time');
  const until = secondsField(req, 'until_time', 'GetLogs: until_time');
  checkBounds(since, until, 'GetLogs: ', 'since_time', 'until_time');
  if (since > 0) out.since = since;
  if (until > 0) out.until = until;
  return out;
}
