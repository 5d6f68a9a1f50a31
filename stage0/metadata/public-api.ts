// The app-facing appc Metadata Service API as a pure function: request in, response out (no sockets),
// so every route, status code and content type is unit-testable.
import { CONTENT_TYPE_JSON, CONTENT_TYPE_TEXT } from './constants.js';
import { mergeForms, parseForm, type FormFields } from './form.js';
import { canonicalUuid, decodeBase64, signContent, verifyContent } from './hmac.js';
import type { PodRegistry, RegisteredPod } from './pod-registry.js';

export interface MdsRequest {
  method: string;
  /** The request target as received (`/<token>/acMetadata/v1/pod/uuid?x=y`). */
  url: string;
  /** The peer address of the TCP connection; identifies pods registered with IPs. */
  remoteAddress: string | undefined;
  contentType: string | undefined;
  body: Buffer;
}

export interface MdsResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface PublicApiState {
  registry: PodRegistry;
  hmacKey: Buffer;
}

/** Which pod asked, and the path under /acMetadata/v1 it asked for. `token` is set when the URL carried one. */
interface Target {
  token: string | undefined;
  rest: string[];
  query: string;
}

function text(status: number, body: string): MdsResponse {
  // Values are served as stored; only pure ASCII may honestly be labelled us-ascii.
  const ascii = /^[\x00-\x7f]*$/.test(body);
  return { status, headers: { 'Content-Type': ascii ? CONTENT_TYPE_TEXT : 'text/plain; charset=utf-8' }, body };
}

function json(body: string): MdsResponse {
  return { status: 200, headers: { 'Content-Type': CONTENT_TYPE_JSON }, body };
}

function error(status: number, message: string): MdsResponse {
  return text(status, message + '\n');
}

function methodNotAllowed(allow: string): MdsResponse {
  const r = error(405, `method not allowed (use ${allow})`);
  r.headers['Allow'] = allow;
  return r;
}

/** Splits the target into token + path under the prefix; undefined when it is not a metadata path at all. */
function parseTarget(url: string): Target | undefined {
  const q = url.indexOf('?');
  const rawPath = q < 0 ? url : url.slice(0, q);
  const query = q < 0 ? '' : url.slice(q + 1);
  if (!rawPath.startsWith('/')) return undefined;
  let segs: string[];
  try {
    segs = rawPath.slice(1).split('/').map((s) => decodeURIComponent(s));
  } catch {
    return undefined;
  }
  if (segs.includes('..') || segs.includes('.')) return undefined;
  let token: string | undefined;
  if (segs[0] !== 'acMetadata') {
    token = segs.shift();
    if (token === undefined || token === '') return undefined;
  }
  if (segs[0] !== 'acMetadata' || segs[1] !== 'v1') return undefined;
  const rest = segs.slice(2);
  // `/pod/annotations/` and `/pod/annotations` are the same resource.
  if (rest.length > 1 && rest[rest.length - 1] === '') rest.pop();
  return { token, rest, query };
}

function identify(state: PublicApiState, t: Target, remote: string | undefined): RegisteredPod | undefined {
  if (t.token !== undefined) return state.registry.findByToken(t.token);
  return remote === undefined ? undefined : state.registry.findByIp(remote);
}

function readForm(req: MdsRequest, query: string): FormFields | MdsResponse {
  const q = parseForm(query);
  if (q === undefined) return error(400, 'malformed query string');
  const type = (req.contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (req.body.length > 0 && type !== 'application/x-www-form-urlencoded') {
    return error(415, 'expected a form body (application/x-www-form-urlencoded)');
  }
  const b = parseForm(req.body.toString('latin1'));
  if (b === undefined) return error(400, 'malformed form body');
  return mergeForms(q, b);
}

function sign(state: PublicApiState, pod: RegisteredPod, form: FormFields): MdsResponse {
  const content = form.get('content');
  if (content === undefined || content.length === 0) return error(400, 'form field "content" is missing or empty');
  return text(200, signContent(state.hmacKey, pod.uuid, content));
}

function verify(state: PublicApiState, form: FormFields): MdsResponse {
  const uuidRaw = form.get('uuid')?.toString('utf8') ?? '';
  const uuid = canonicalUuid(uuidRaw);
  if (uuid === undefined) return error(400, `form field "uuid" is missing or not a UUID`);
  const content = form.get('content');
  if (content === undefined || content.length === 0) return error(400, 'form field "content" is missing or empty');
  const sig = decodeBase64(form.get('signature')?.toString('utf8') ?? '');
  if (sig === undefined || sig.length === 0) return error(400, 'form field "signature" is missing or not base64');
  return verifyContent(state.hmacKey, uuid, content, sig) ? text(200, '') : error(403, 'signature does not match');
}

function annotationValue(list: readonly { name: string; value: string }[] | null, name: string, what: string): MdsResponse {
  const hit = (list ?? []).find((a) => a.name === name);
  return hit ? text(200, hit.value) : error(404, `${what} annotation "${name}" not found`);
}

function podRoute(state: PublicApiState, pod: RegisteredPod, req: MdsRequest, t: Target): MdsResponse {
  const [, what, ...more] = t.rest;
  const isGet = req.method === 'GET' || req.method === 'HEAD';
  if (what === 'hmac' && more.length === 1 && (more[0] === 'sign' || more[0] === 'verify')) {
    if (req.method !== 'POST') return methodNotAllowed('POST');
    const form = readForm(req, t.query);
    if (form instanceof Map) return more[0] === 'sign' ? sign(state, pod, form) : verify(state, form);
    return form;
  }
  const known = (what === 'annotations') || ((what === 'manifest' || what === 'uuid') && more.length === 0);
  if (!known) return error(404, 'no such metadata endpoint');
  if (!isGet) return methodNotAllowed('GET');
  if (what === 'manifest') return json(pod.manifestJson);
  if (what === 'uuid') return text(200, pod.uuid);
  if (more.length === 0) return json(JSON.stringify(pod.annotations));
  return annotationValue(pod.annotations, more.join('/'), 'pod');
}

function appRoute(pod: RegisteredPod, req: MdsRequest, t: Target): MdsResponse {
  const [, appName, what, ...more] = t.rest;
  if (appName === undefined || appName === '' || what === undefined) return error(404, 'no such metadata endpoint');
  const imageEndpoint = what === 'image' && more.length === 1 && (more[0] === 'manifest' || more[0] === 'id');
  if (what !== 'annotations' && !imageEndpoint) return error(404, 'no such metadata endpoint');
  if (req.method !== 'GET' && req.method !== 'HEAD') return methodNotAllowed('GET');
  const app = pod.apps.get(appName);
  if (!app) return error(404, `app "${appName}" not found in this pod`);
  if (what === 'annotations') {
    return more.length === 0 ? json(JSON.stringify(app.annotations)) : annotationValue(app.annotations, more.join('/'), 'app');
  }
  return more[0] === 'manifest' ? json(app.imageManifestJson) : text(200, app.imageId);
}

/** Answers one app request. Unknown caller: 401; unknown path, app or annotation: 404; wrong method: 405. */
export function handlePublicRequest(state: PublicApiState, req: MdsRequest): MdsResponse {
  const t = parseTarget(req.url);
  if (!t) return error(404, 'not a metadata service path (expected [/<token>]/acMetadata/v1/...)');
  const pod = identify(state, t, req.remoteAddress);
  if (!pod) return error(401, t.token !== undefined ? 'unknown pod token' : 'no pod is registered for this address');
  if (t.rest[0] === 'pod') return podRoute(state, pod, req, t);
  if (t.rest[0] === 'apps') return appRoute(pod, req, t);
  return error(404, 'no such metadata endpoint');
}

/** The request target with its token replaced, for logs (the token is the pod's credential). */
export function redactTarget(url: string): string {
  return url.replace(/^\/([^/?]+)(?=\/acMetadata\/)/, (_m, tok: string) => (tok === 'acMetadata' ? _m : '/<token>'));
}
