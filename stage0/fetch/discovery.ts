// appc meta discovery: GET https://<prefix>?ac-discovery=1 walking up the name, parse the
// ac-discovery / ac-discovery-pubkeys meta tags, fill URL templates.
//
// Ports: AC identifiers cannot hold ":port", so discovery always asks the default port of
// the scheme, as appc's reference client does with port 0. appc's client takes a port
// parameter; we expose it as the documented environment variable RKT_DISCOVERY_PORT
// (see stage0/fetch/README.md), which tests use to reach a server on 127.0.0.1.
import { RktError, describeCause } from '../../common/errors.js';
import { formatAppRef, type AppRef } from './app-string.js';
import { fetchBytes, type HttpPolicy } from './http.js';

export interface DiscoveryMeta {
  readonly endpoints: ReadonlyArray<{ readonly prefix: string; readonly template: string }>;
  readonly pubkeys: ReadonlyArray<{ readonly prefix: string; readonly url: string }>;
}

export interface AciEndpoint {
  readonly aci: string;
  readonly asc: string;
}

export interface DiscoveryOptions {
  readonly policy: HttpPolicy;
  /** Port for the discovery GET; undefined = scheme default. */
  readonly port: number | undefined;
  readonly debug?: (line: string) => void;
}

const MAX_PAGE = 1024 * 1024;

/** The discovery port from RKT_DISCOVERY_PORT, validated. */
export function discoveryPortFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env['RKT_DISCOVERY_PORT'];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    throw new RktError('USAGE', `invalid RKT_DISCOVERY_PORT "${raw}": expected a port number 1-65535`);
  }
  return n;
}

function attr(tag: string, name: string): string | undefined {
  const re = new RegExp(`\\b${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s"'>]+))`, 'i');
  const m = re.exec(tag);
  return m ? (m[1] ?? m[2] ?? m[3]) : undefined;
}

function decodeEntities(s: string): string {
  return s.replace(/&(amp|lt|gt|quot|#39);/g, (_m, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e] ?? _m);
}

/** Extracts the ac-discovery meta tags from an HTML page. */
export function parseDiscoveryMeta(html: string): DiscoveryMeta {
  const endpoints: Array<{ prefix: string; template: string }> = [];
  const pubkeys: Array<{ prefix: string; url: string }> = [];
  for (const m of html.matchAll(/<meta\b[^>]*>/gi)) {
    const tag = m[0];
    const name = attr(tag, 'name')?.trim().toLowerCase();
    const content = attr(tag, 'content');
    if (!name?.startsWith('ac-') || content === undefined) continue;
    const text = decodeEntities(content).trim();
    const space = text.search(/\s/);
    if (space === -1) continue;
    const prefix = text.slice(0, space);
    const value = text.slice(space).trim();
    if (name === 'ac-discovery') endpoints.push({ prefix, template: value });
    else if (name === 'ac-discovery-pubkeys') pubkeys.push({ prefix, url: value });
  }
  return { endpoints, pubkeys };
}

/** Fills a template; undefined when a placeholder is left (a label the request lacks). */
export function renderTemplate(template: string, ref: AppRef, ext: 'aci' | 'aci.asc'): string | undefined {
  const values: Record<string, string> = { version: 'latest', ...ref.labels, name: ref.name, ext };
  const out = template.replace(/\{([^{}]+)\}/g, (whole, key: string) => values[key] ?? whole);
  return /\{[^{}]*\}/.test(out) ? undefined : out;
}

/** Labels discovery uses when the user gave none: the host's os/arch in appc words. */
export function withDefaultLabels(ref: AppRef): AppRef {
  return { name: ref.name, labels: { os: 'linux', arch: 'amd64', ...ref.labels } };
}

/** The name and its parents, longest first. */
function walk(name: string): string[] {
  const parts = name.split('/');
  const out: string[] = [];
  for (let i = parts.length; i > 0; i--) out.push(parts.slice(0, i).join('/'));
  return out;
}

async function fetchMeta(prefix: string, opts: DiscoveryOptions): Promise<DiscoveryMeta | undefined> {
  const host = prefix.split('/')[0] ?? prefix;
  const rest = prefix.slice(host.length);
  const port = opts.port === undefined ? '' : `:${opts.port}`;
  const schemes = opts.policy.allowHttp ? ['https', 'http'] : ['https'];
  for (const scheme of schemes) {
    const url = `${scheme}://${host}${port}${rest}?ac-discovery=1`;
    try {
      const got = await fetchBytes(url, opts.policy, MAX_PAGE);
      if (got) return parseDiscoveryMeta(got.body.toString('utf8'));
    } catch (err) {
      opts.debug?.(`discovery: ${url}: ${describeCause(err)}`);
    }
  }
  return undefined;
}

/** Finds where to download an image and its signature. */
export async function discoverEndpoints(ref: AppRef, opts: DiscoveryOptions): Promise<AciEndpoint[]> {
  const full = withDefaultLabels(ref);
  for (const prefix of walk(ref.name)) {
    const meta = await fetchMeta(prefix, opts);
    if (!meta) continue;
    const found: AciEndpoint[] = [];
    for (const e of meta.endpoints) {
      if (!ref.name.startsWith(e.prefix)) continue;
      const aci = renderTemplate(e.template, full, 'aci');
      const asc = renderTemplate(e.template, full, 'aci.asc');
      if (aci && asc) found.push({ aci, asc });
    }
    if (found.length > 0) return found;
    opts.debug?.(`discovery: no usable ac-discovery template at ${prefix}`);
  }
  throw new RktError('DISCOVERY', `cannot discover image ${formatAppRef(full)}: no ac-discovery meta tag found for the name or its parents`, {
    hint: `check the name; https://${ref.name.split('/')[0] ?? ref.name}/...?ac-discovery=1 must serve the meta tags (use --debug to see each attempt)`,
  });
}

/** Finds the public key URLs for a name (a separate walk from the image endpoints). */
export async function discoverPubkeys(name: string, opts: DiscoveryOptions): Promise<string[]> {
  for (const prefix of walk(name)) {
    const meta = await fetchMeta(prefix, opts);
    if (!meta) continue;
    const urls = meta.pubkeys.filter((p) => name.startsWith(p.prefix)).map((p) => p.url);
    if (urls.length > 0) return urls;
  }
  throw new RktError('DISCOVERY', `cannot discover public keys for "${name}": no ac-discovery-pubkeys meta tag found`, {
    hint: 'give the key file or URL explicitly: rkt trust --prefix=<prefix> <key>',
  });
}
