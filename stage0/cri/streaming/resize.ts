// Terminal resizes arrive on channel 4 as a stream of JSON objects `{"Width":W,"Height":H}`
// (kubelet decodes the channel with a streaming JSON decoder, so objects may be split across
// frames or share one, and Go matches the field names case-insensitively).

const MAX_PENDING = 64 * 1024;

export interface TerminalSize {
  width: number;
  height: number;
}

export class ResizeDecoder {
  private pending = '';

  /** Feeds a frame's payload; returns the sizes completed by it. Throws on a malformed object (and drops it). */
  push(chunk: Buffer): TerminalSize[] {
    this.pending += chunk.toString('utf8');
    const sizes: TerminalSize[] = [];
    let bad: string | null = null;
    for (;;) {
      const start = this.pending.search(/\S/);
      if (start < 0) {
        this.pending = '';
        break;
      }
      const end = objectEnd(this.pending, start);
      if (end < 0) {
        this.pending = this.pending.slice(start);
        if (this.pending.length > MAX_PENDING) {
          this.pending = '';
          bad = 'an oversized resize message';
        }
        break;
      }
      const text = this.pending.slice(start, end);
      this.pending = this.pending.slice(end);
      const size = parseSize(text);
      if (size === null) bad = `a malformed resize message ${JSON.stringify(text.slice(0, 80))}`;
      else sizes.push(size);
    }
    if (bad !== null && sizes.length === 0) throw new Error(`dropped ${bad}`);
    return sizes;
  }
}

/** Index just past the JSON value that starts at `start` (an object, or junk up to whitespace); -1 if incomplete. */
function objectEnd(s: string, start: number): number {
  if (s[start] !== '{') {
    const ws = s.slice(start).search(/\s|\{/);
    return ws < 0 ? s.length : start + Math.max(ws, 1);
  }
  let depth = 0;
  let inString = false;
  for (let i = start; i < s.length; i++) {
    const c = s[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

function parseSize(text: string): TerminalSize | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  let width = 0;
  let height = 0;
  for (const [k, val] of Object.entries(v)) {
    const key = k.toLowerCase();
    if (key !== 'width' && key !== 'height') continue;
    if (typeof val !== 'number' || !Number.isInteger(val) || val < 0 || val > 0xffff) return null;
    if (key === 'width') width = val;
    else height = val;
  }
  return { width, height };
}
