// The value a flavor hands the app entrypoints (add, rm, start, stop; commands.ts): the few answers in which
// nspawn and kvm differ for a running pod. Each flavor exports one from stage1-<flavor>/app/flavor.ts.
import type { PodManifest, RuntimeApp } from '../../common/appc/index.js';
import type { FlavorTraits } from '../flavor-traits.js';
import type { Stage1Record } from '../record/stage1-record.js';
import type { AppUnitSpec } from '../units/app-spec.js';
import type { IdRange } from './ownership.js';

export interface PodExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface AdmitInput<S> {
  podDir: string;
  record: Stage1Record<S>;
  /** pod.next: the pod as it will be with the new app. */
  pod: PodManifest;
  app: RuntimeApp;
  spec: AppUnitSpec;
}

export interface AppFlavor<S> {
  readonly traits: FlavorTraits<S>;
  /**
   * Runs `argv` (argv[0] absolute) as root where the pod's systemd can be asked things (its namespaces, or
   * the guest), stdin empty, output captured. Throws when the pod cannot be reached; a command that ran
   * and failed is a non-zero `code`.
   */
  execInPod(podDir: string, rec: Stage1Record<S>, argv: readonly string[], opts: { timeoutMs: number }): Promise<PodExecResult>;
  /**
   * The range a tree copied in by stage0 (ownership as in the image) and the files app/add writes must be
   * shifted onto so the pod sees their owners as the image meant; undefined when the pod sees disk ids as they are.
   */
  diskShift(rec: Stage1Record<S>): IdRange | undefined;
  /** Refuses (throws a one-line RktError) an app this pod cannot take; called before app/add writes anything. */
  admitApp?(a: AdmitInput<S>): Promise<void>;
  /**
   * Run in the pod after the host changed files of the pod root and before systemd reads them, where the
   * pod may hold stale cached copies (kvm: the guest's 9p root is mounted cache=loose).
   */
  refreshArgv?: readonly string[];
}
