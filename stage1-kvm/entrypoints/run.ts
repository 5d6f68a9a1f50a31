// The kvm run entrypoint: the shared run pipeline with the kvm flavor's answers; it ends by replacing
// itself with kvm-supervise (sh), which runs QEMU and maps the apps' exit codes. No Node process stays.
import { runEntrypoint } from '../../stage1-shared/entrypoint.js';
import { runPod } from '../../stage1-shared/run/pipeline.js';
import { kvmRunFlavor } from '../flavor/run-flavor.js';

runEntrypoint('run', (argv) => runPod(kvmRunFlavor, argv));
