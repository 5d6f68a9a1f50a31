// The kvm app entrypoints (app/add, app/rm, app/start, app/stop of a mutable pod): one program, the verb
// first (the app-* wrappers pass it), the shared implementation with the kvm flavor's answers.
import { appEntrypointName, runAppVerb } from '../../stage1-shared/app/dispatch.js';
import { runEntrypoint } from '../../stage1-shared/entrypoint.js';
import { kvmAppFlavor } from '../app/flavor.js';

runEntrypoint(appEntrypointName(process.argv.slice(2)), (argv) => runAppVerb(kvmAppFlavor, argv));
