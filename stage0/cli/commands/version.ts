// `rkt version`: the lines schedulers parse.
import { RKT_VERSION, APPC_VERSION } from '../../../common/version.js';
import type { CommandModule } from '../registry.js';

export const versionCommand: CommandModule = {
  register(parent, bind) {
    parent
      .command('version')
      .description('print the version and exit')
      .action(
        bind('version', async (ctx) => {
          ctx.output.out(`rkt Version: ${RKT_VERSION}`);
          ctx.output.out(`appc Version: ${APPC_VERSION}`);
          ctx.output.out(`Node Version: ${process.version}`);
          ctx.output.out(`Node OS/Arch: ${process.platform}/${process.arch}`);
          ctx.output.out('Features: +TPM=no +SDJOURNAL=yes');
          return 0;
        }),
      );
  },
};
