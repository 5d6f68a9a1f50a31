// WWW-Authenticate (RFC 7235 challenges): a header may hold several challenges, each a scheme followed
// by a token68 or by comma-separated auth-params whose quoted values may themselves hold commas and
// backslash-escaped quotes, so splitting on commas is wrong and a small tokenizer is needed.

export interface Challenge {
  /** Lowercased: "bearer", "basic", ... */
  readonly scheme: string;
  /** Parameter names lowercased (they are case-insensitive); values as sent, unquoted. */
  readonly params: Readonly<Record<string, string>>;
  readonly token68?: string;
}

// RFC 7230 tchar.
const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN68_CHAR = /[A-Za-z0-9\-._~+/]/;

class Scanner {
  pos = 0;
  constructor(readonly s: string) {}
  get done(): boolean {
    return this.pos >= this.s.length;
  }
  peek(): string {
    return this.s[this.pos] ?? '';
  }
  skipWs(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.pos++;
  }
  /** Skips whitespace and commas (empty list elements are allowed by the list rule). */
  skipSeparators(): void {
    while (this.peek() === ' ' || this.peek() === '\t' || this.peek() === ',') this.pos++;
  }
  token(): string {
    const start = this.pos;
    while (!this.done && TCHAR.test(this.peek())) this.pos++;
    return this.s.slice(start, this.pos);
  }
  quoted(): string | undefined {
    if (this.peek() !== '"') return undefined;
    this.pos++;
    let out = '';
    while (!this.done) {
      const c = this.s[this.pos++] ?? '';
      if (c === '"') return out;
      if (c === '\\' && !this.done) {
        out += this.s[this.pos++] ?? '';
        continue;
      }
      out += c;
    }
    // An unterminated quoted string: keep what there is rather than failing the whole header.
    return out;
  }
}

/**
 * Looks ahead from the scanner's position for `name =` (an auth-param) as opposed to a bare token
 * that starts the next challenge, without consuming anything.
 */
function atAuthParam(sc: Scanner): boolean {
  const save = sc.pos;
  const name = sc.token();
  sc.skipWs();
  let isParam = name !== '' && sc.peek() === '=';
  if (isParam) {
    // "abc==" is a token68 with padding, not a parameter: a value must follow the '='.
    sc.pos++;
    sc.skipWs();
    isParam = sc.peek() === '"' || (sc.peek() !== '' && TCHAR.test(sc.peek()));
  }
  sc.pos = save;
  return isParam;
}

/** Parses every challenge in a WWW-Authenticate header value; malformed parts are skipped, never thrown. */
export function parseWwwAuthenticate(header: string): Challenge[] {
  const sc = new Scanner(header);
  const out: Challenge[] = [];
  sc.skipSeparators();
  while (!sc.done) {
    const scheme = sc.token();
    if (scheme === '') {
      // Junk where a scheme should be: skip to the next separator and try again.
      while (!sc.done && sc.peek() !== ',') sc.pos++;
      sc.skipSeparators();
      continue;
    }
    const params: Record<string, string> = {};
    let token68: string | undefined;
    sc.skipWs();
    // A token68 directly after the scheme: letters etc. followed by optional '=' padding and then a
    // comma or the end (not "name=value").
    if (!sc.done && sc.peek() !== ',' && !atAuthParam(sc)) {
      const start = sc.pos;
      while (!sc.done && TOKEN68_CHAR.test(sc.peek())) sc.pos++;
      while (sc.peek() === '=') sc.pos++;
      const t = header.slice(start, sc.pos);
      sc.skipWs();
      if (t !== '' && (sc.done || sc.peek() === ',')) token68 = t;
      else sc.pos = start;
    }
    if (token68 === undefined) {
      for (;;) {
        sc.skipSeparators();
        if (sc.done || !atAuthParam(sc)) break;
        const name = sc.token().toLowerCase();
        sc.skipWs();
        sc.pos++; // '='
        sc.skipWs();
        const value = sc.peek() === '"' ? (sc.quoted() ?? '') : sc.token();
        // The first occurrence wins; RFC 7235 says a parameter must not repeat.
        if (!(name in params)) params[name] = value;
        sc.skipWs();
        if (!sc.done && sc.peek() !== ',') {
          // Garbage after a value: drop the rest of this element.
          while (!sc.done && sc.peek() !== ',') sc.pos++;
        }
      }
    }
    out.push({ scheme: scheme.toLowerCase(), params, ...(token68 !== undefined ? { token68 } : {}) });
    sc.skipSeparators();
  }
  return out;
}
