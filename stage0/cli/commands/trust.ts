// `rkt trust`: review a public key's fingerprint and store it in the local keystore for a
// prefix (or as a root key); without key arguments the prefix's keys are discovered. A key is an
// OpenPGP key or a sigstore (cosign) PEM public key, told apart by its content; a prefix is an
// image name prefix: example.com/app for ACIs, host[:port]/path for OCI images.
import readline from 'node:readline/promises';
import { RktError } from '../../../common/errors.js';
import { loadConfig } from '../../config/config.js';
import { discoverPubkeys, discoveryPortFromEnv } from '../../fetch/discovery.js';
import type { HttpPolicy } from '../../fetch/http.js';
import { describeScope, isAcIdentifier, validatePrefix, writeTrustedKey, type TrustScope } from '../../trust/keystore.js';
import { readAnyKeySource, type AnyKeyFromSource } from '../../trust/key-source.js';
import { formatFingerprint } from '../../trust/pgp.js';
import type { CommandContext } from '../../context/context.js';
import type { CommandModule } from '../registry.js';

interface TrustFlags {
  prefix?: string;
  root?: boolean;
  skipFingerprintReview?: boolean;
  insecureAllowHttp?: boolean;
}

function scopeFrom(flags: TrustFlags, keys: readonly string[]): TrustScope {
  if (flags.root && flags.prefix !== undefined) {
    throw new RktError('USAGE', '--root and --prefix cannot be used together', { hint: 'trust a key either for every image (--root) or for one prefix' });
  }
  if (flags.root) {
    if (keys.length === 0) {
      throw new RktError('USAGE', '--root needs an explicit key', { hint: 'root keys are never discovered: rkt trust --root <key file or URL>' });
    }
    return { kind: 'root' };
  }
  if (flags.prefix === undefined || flags.prefix === '') {
    throw new RktError('USAGE', 'missing --prefix or --root', {
      hint: 'say which images the key may sign: rkt trust --prefix=example.com/app <key>, or --root for all images',
    });
  }
  return { kind: 'prefix', prefix: validatePrefix(flags.prefix) };
}

function describeKey(scope: TrustScope, key: AnyKeyFromSource): string {
  const lines = [
    `${scope.kind === 'root' ? 'Root key' : `Prefix: "${scope.kind === 'prefix' ? scope.prefix : ''}"`}`,
    `Key: "${key.source}"`,
    ...(key.kind === 'openpgp'
      ? [`GPG key fingerprint is: ${formatFingerprint(key.fingerprint)}`, ...key.uids.map((u) => `\t${u}`)]
      : [`Sigstore public key (${key.algorithm}), sha256 of its DER is: ${key.id}`]),
  ];
  return lines.join('\n');
}

function keyName(key: AnyKeyFromSource): string {
  return key.kind === 'openpgp' ? `OpenPGP key ${formatFingerprint(key.fingerprint)}` : `sigstore ${key.algorithm} key sha256:${key.id}`;
}

async function confirm(question: string): Promise<boolean> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    for (;;) {
      const answer = (await rl.question(question)).trim().toLowerCase();
      if (answer === 'yes' || answer === 'y') return true;
      if (answer === 'no' || answer === 'n' || answer === '') return false;
      process.stderr.write('Please enter "yes" or "no".\n');
    }
  } finally {
    rl.close();
  }
}

async function review(ctx: CommandContext, scope: TrustScope, key: AnyKeyFromSource, skip: boolean): Promise<boolean> {
  process.stderr.write(describeKey(scope, key) + '\n');
  if (skip) return true;
  if (ctx.globals.trustKeysFromHttps && key.viaHttps) {
    ctx.output.warn('trusting the key because it came over https and --trust-keys-from-https is set');
    return true;
  }
  if (process.stdin.isTTY !== true) {
    throw new RktError('TRUST', 'cannot ask for confirmation of the key fingerprint: stdin is not a terminal', {
      hint: 'check the fingerprint above against one you got from the signer, then run again with --skip-fingerprint-review',
    });
  }
  return confirm('Are you sure you want to trust this key (yes/no)? ');
}

async function runTrust(ctx: CommandContext, keys: string[], flags: TrustFlags): Promise<number> {
  const scope = scopeFrom(flags, keys);
  const insecure = ctx.globals.insecure;
  const policy: HttpPolicy = {
    insecureTls: insecure.has('tls'),
    allowHttp: flags.insecureAllowHttp === true || insecure.has('http') || insecure.has('pubkey'),
    auth: loadConfig(ctx.globals).auth,
  };
  let sources = keys;
  if (sources.length === 0 && scope.kind === 'prefix' && !isAcIdentifier(scope.prefix)) {
    throw new RktError('USAGE', `no key given for prefix "${scope.prefix}"`, {
      hint: 'keys are discovered for AC names only; give the key file or URL, e.g. rkt trust --prefix=127.0.0.1:5000/acme cosign.pub',
    });
  }
  if (sources.length === 0 && scope.kind === 'prefix') {
    sources = await discoverPubkeys(scope.prefix, { policy, port: discoveryPortFromEnv(), debug: (l) => ctx.output.debug(l) });
    ctx.output.debug(`discovered keys for ${describeScope(scope)}: ${sources.join(', ')}`);
  }
  for (const source of sources) {
    const key = await readAnyKeySource(source, policy);
    if (!(await review(ctx, scope, key, flags.skipFingerprintReview === true))) {
      ctx.output.warn(`not trusting ${keyName(key)}`);
      return 1;
    }
    const where =
      key.kind === 'openpgp'
        ? await writeTrustedKey(ctx.globals.localConfig, scope, key.fingerprint, key.armored)
        : await writeTrustedKey(ctx.globals.localConfig, scope, key.id, key.pem, 'sigstore');
    ctx.output.out(scope.kind === 'root' ? `Added root key at "${where}"` : `Added key for prefix "${scope.prefix}" at "${where}"`);
    if (key.kind === 'sigstore') ctx.output.out(`Trusted ${keyName(key)} for ${describeScope(scope)}`);
  }
  return 0;
}

export const trustCommand: CommandModule = {
  register(parent, bind) {
    parent
      .command('trust')
      .description('trust a key for image verification')
      .argument('[PUBKEY...]', 'path or http(s) URL of an armored OpenPGP public key or a sigstore PEM public key (discovered from the prefix when omitted)')
      .option('--prefix <prefix>', 'image name prefix the key may sign for (example.com/app, or host[:port]/path for OCI images)')
      .option('--root', 'add a root key, trusted for every image (needs an explicit key)')
      .option('--skip-fingerprint-review', 'accept the key without asking to confirm its fingerprint')
      .option('--insecure-allow-http', 'allow fetching keys over plain http')
      .action(bind('trust', async (ctx, keys: string[], flags: TrustFlags) => runTrust(ctx, keys, flags)));
  },
};
