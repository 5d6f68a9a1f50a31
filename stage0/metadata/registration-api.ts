// The stage0-facing registration API served on the unix socket, as a pure function:
//   PUT /pods/<uuid>     JSON {token, manifest, apps: [{name, manifest}], ips?} -> 200 {"port": N}
//   DELETE /pods/<uuid>  -> 200, or 404 when not registered
//   GET /pods            -> 200 ["<uuid>", ...]
import { CONTENT_TYPE_JSON, CONTENT_TYPE_TEXT } from './constants.js';
import { RegistrationError, type PodRegistration, type PodRegistry } from './pod-registry.js';
import type { MdsResponse } from './public-api.js';

export interface RegistrationRequest {
  method: string;
  url: string;
  body: Buffer;
}

export interface RegistrationState {
  registry: PodRegistry;
  /** The public port, returned to the registering stage0 so its stage1 can build AC_METADATA_URL. */
  port: number;
  /** Called after each successful change, for the service's log. */
  onChange?: (what: 'registered' | 'unregistered', uuid: string) => void;
}

function reply(status: number, message: string): MdsResponse {
  return { status, headers: { 'Content-Type': CONTENT_TYPE_TEXT }, body: message + '\n' };
}

function jsonReply(value: unknown): MdsResponse {
  return { status: 200, headers: { 'Content-Type': CONTENT_TYPE_JSON }, body: JSON.stringify(value) };
}

/** Parses the PUT body into a PodRegistration, or explains what is wrong with it. */
export function parseRegistrationBody(uuid: string, body: Buffer): PodRegistration | string {
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch (err) {
    return `body is not valid JSON (${err instanceof Error ? err.message : String(err)})`;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'body must be a JSON object';
  const o = v as Record<string, unknown>;
  if (typeof o['token'] !== 'string') return 'body.token must be a string';
  if (o['manifest'] === undefined) return 'body.manifest is required';
  const rawApps = o['apps'];
  if (!Array.isArray(rawApps)) return 'body.apps must be an array';
  const apps: PodRegistration['apps'] = [];
  for (const [i, a] of rawApps.entries()) {
    if (typeof a !== 'object' || a === null) return `body.apps[${i}] must be an object`;
    const ao = a as Record<string, unknown>;
    if (typeof ao['name'] !== 'string') return `body.apps[${i}].name must be a string`;
    if (ao['manifest'] === undefined) return `body.apps[${i}].manifest is required`;
    apps.push({ name: ao['name'], manifest: ao['manifest'] });
  }
  const reg: PodRegistration = { uuid, token: o['token'], manifest: o['manifest'], apps };
  const ips = o['ips'];
  if (ips !== undefined) {
    if (!Array.isArray(ips) || !ips.every((x): x is string => typeof x === 'string')) return 'body.ips must be an array of strings';
    reg.ips = ips;
  }
  return reg;
}

export function handleRegistrationRequest(state: RegistrationState, req: RegistrationRequest): MdsResponse {
  const path = req.url.split('?')[0]!;
  if (path === '/pods') {
    if (req.method !== 'GET') return { ...reply(405, 'method not allowed (use GET)'), headers: { 'Content-Type': CONTENT_TYPE_TEXT, Allow: 'GET' } };
    return jsonReply(state.registry.uuids());
  }
  const m = /^\/pods\/([^/]+)$/.exec(path);
  if (!m) return reply(404, 'unknown registration path (expected /pods/<uuid>)');
  let uuid: string;
  try {
    uuid = decodeURIComponent(m[1]!);
  } catch {
    return reply(400, 'malformed pod uuid in path');
  }
  if (req.method === 'DELETE') {
    if (!state.registry.unregister(uuid)) return reply(404, `pod ${uuid} is not registered`);
    state.onChange?.('unregistered', uuid);
    return reply(200, 'unregistered');
  }
  if (req.method !== 'PUT') return { ...reply(405, 'method not allowed (use PUT or DELETE)'), headers: { 'Content-Type': CONTENT_TYPE_TEXT, Allow: 'PUT, DELETE' } };
  const reg = parseRegistrationBody(uuid, req.body);
  if (typeof reg === 'string') return reply(400, reg);
  try {
    const pod = state.registry.register(reg);
    state.onChange?.('registered', pod.uuid);
  } catch (err) {
    if (err instanceof RegistrationError) return reply(err.status, err.message);
    throw err;
  }
  return jsonReply({ port: state.port });
}
