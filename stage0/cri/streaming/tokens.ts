// Single-use, expiring tokens: an RPC stores its request under one and returns the URL that
// names it; the first connection to that URL takes the request out. Like kubelet's request
// cache, a token that nobody used within its lifetime (1 minute by default) is forgotten.
import { randomBytes } from 'node:crypto';

export type StreamKind = 'exec' | 'attach' | 'portforward';

export const DEFAULT_TOKEN_TTL_MS = 60_000;

interface Entry<T> {
  kind: StreamKind;
  value: T;
  expiresAt: number;
}

export interface TokenStoreOptions {
  ttlMs?: number;
  /** Milliseconds clock; tests pass a fake one. */
  now?: () => number;
}

export class TokenStore<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(opts: TokenStoreOptions = {}) {
    this.ttlMs = opts.ttlMs ?? DEFAULT_TOKEN_TTL_MS;
    this.now = opts.now ?? Date.now;
  }

  /** Stores `value` and returns its new token (URL-safe, 128 random bits). */
  add(kind: StreamKind, value: T): string {
    this.sweep();
    let token: string;
    do {
      token = randomBytes(16).toString('base64url');
    } while (this.entries.has(token));
    this.entries.set(token, { kind, value, expiresAt: this.now() + this.ttlMs });
    return token;
  }

  /** The live value under `token` for `kind`, left in place. */
  peek(kind: StreamKind, token: string): T | undefined {
    const e = this.entries.get(token);
    if (e === undefined || e.kind !== kind) return undefined;
    if (this.now() >= e.expiresAt) {
      this.entries.delete(token);
      return undefined;
    }
    return e.value;
  }

  /** Takes the live value under `token` for `kind` out: a second take finds nothing. */
  take(kind: StreamKind, token: string): T | undefined {
    const v = this.peek(kind, token);
    if (v !== undefined) this.entries.delete(token);
    return v;
  }

  get size(): number {
    this.sweep();
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }

  private sweep(): void {
    const now = this.now();
    for (const [token, e] of this.entries) if (now >= e.expiresAt) this.entries.delete(token);
  }
}
