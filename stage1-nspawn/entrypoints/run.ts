// The nspawn run entrypoint: the shared run pipeline with the nspawn flavor's answers; it ends by
// replacing itself with systemd-nspawn booting the pod's systemd.
import { runEntrypoint } from '../../stage1-shared/entrypoint.js';
import { runPod } from '../../stage1-shared/run/pipeline.js';
import { nspawnRunFlavor } from '../flavor/run-flavor.js';

runEntrypoint('run', (argv) => runPod(nspawnRunFlavor, argv));
