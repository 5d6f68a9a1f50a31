// The shape of one benchmark result in bench/results/latest.json (one per named figure).
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  /** What the figure is compared with, measured in the same run; null when it is an absolute figure. */
  baseline: string | null;
  baseline_value: number | null;
  /** ours / baseline; null without a baseline. */
  ratio: number | null;
  runs: number;
  min: number;
  median: number;
  max: number;
  /** 'tcg' | 'kvm' for VM figures, 'n/a' otherwise. */
  accel: string;
  command: string;
  notes?: string;
}

export interface Samples {
  values: number[];
}

export function stats(values: number[]): { min: number; median: number; max: number } {
  if (values.length === 0) throw new Error('no samples');
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { min: s[0]!, median, max: s[s.length - 1]! };
}

export function round(n: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** Builds a result from our samples and, optionally, the baseline's samples from the same run. */
export function makeResult(args: {
  name: string;
  unit: string;
  ours: number[];
  baselineName?: string;
  baseline?: number[];
  accel?: string;
  command: string;
  notes?: string;
}): BenchResult {
  const o = stats(args.ours);
  const b = args.baseline && args.baseline.length > 0 ? stats(args.baseline) : undefined;
  return {
    name: args.name,
    value: round(o.median),
    unit: args.unit,
    baseline: b ? (args.baselineName ?? 'baseline') : null,
    baseline_value: b ? round(b.median) : null,
    ratio: b && b.median > 0 ? round(o.median / b.median) : null,
    runs: args.ours.length,
    min: round(o.min),
    median: round(o.median),
    max: round(o.max),
    accel: args.accel ?? 'n/a',
    command: args.command,
    ...(args.notes ? { notes: args.notes } : {}),
  };
}
