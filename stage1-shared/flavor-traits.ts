// What any entrypoint needs to know about a flavor without loading its launcher: how it names itself in
// the record (and reads its own section), and where it puts the pod's volumes. Each flavor exports one
// value of this type from stage1-<flavor>/flavor/traits.ts; its run flavor (run/flavor.ts) extends it.
import type { FlavorRecordCodec } from './record/stage1-record.js';

export interface FlavorTraits<S> {
  readonly record: FlavorRecordCodec<S>;
  /** Where a pod volume is reachable inside the pod root; the app units bind it from there. */
  volumePath(volume: string): string;
}
