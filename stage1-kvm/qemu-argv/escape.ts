// QEMU's option syntax: "key=value,key=value"; a literal comma inside a value is written ",,".
export function optValue(v: string): string {
  return v.replace(/,/g, ',,');
}

/** Joins key=value pairs into one QEMU option string, escaping each value. */
export function opts(first: string, pairs: ReadonlyArray<readonly [string, string]>): string {
  return [first, ...pairs.map(([k, v]) => `${k}=${optValue(v)}`)].join(',');
}
