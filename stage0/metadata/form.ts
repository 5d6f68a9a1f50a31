// Decoding of application/x-www-form-urlencoded bodies and query strings into raw bytes, so that
// signed content round-trips exactly even when it is not valid UTF-8.

/** Field name -> value bytes; the first occurrence of a name wins. */
export type FormFields = Map<string, Buffer>;

function percentDecode(s: string): Buffer | undefined {
  const out: number[] = [];
  // The input is a latin1 view of the raw bytes (how HTTP bodies and targets arrive), so this is lossless.
  const raw = Buffer.from(s.replace(/\+/g, ' '), 'latin1');
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i]!;
    if (b !== 0x25) {
      out.push(b);
      continue;
    }
    const hex = raw.subarray(i + 1, i + 3).toString('latin1');
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return undefined;
    out.push(parseInt(hex, 16));
    i += 2;
  }
  return Buffer.from(out);
}

/** Parses `a=1&b=2` given as a latin1 string of the raw bytes. Undefined when a %-escape is malformed. */
export function parseForm(text: string): FormFields | undefined {
  const fields: FormFields = new Map();
  if (text === '') return fields;
  for (const part of text.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = percentDecode(eq < 0 ? part : part.slice(0, eq));
    const value = percentDecode(eq < 0 ? '' : part.slice(eq + 1));
    if (name === undefined || value === undefined) return undefined;
    const key = name.toString('utf8');
    if (!fields.has(key)) fields.set(key, value);
  }
  return fields;
}

/** Body fields override query fields, as Go's Request.FormValue (which rkt's service used) does. */
export function mergeForms(query: FormFields, body: FormFields): FormFields {
  const out: FormFields = new Map(query);
  for (const [k, v] of body) out.set(k, v);
  return out;
}
