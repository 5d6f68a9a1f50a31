// A benchmark suite: says whether it can run here, then produces named results.
import type { BenchResult } from './result.js';

export interface Suite {
  /** Result names this suite produces, for the report when it is skipped. */
  readonly produces: readonly string[];
  /** true, or the reason it cannot run on this machine (e.g. "stage1-kvm.aci not built"). */
  available(): Promise<true | string>;
  run(progress: (line: string) => void): Promise<BenchResult[]>;
}
