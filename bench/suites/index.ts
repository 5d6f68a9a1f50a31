// The suite table, in the order the report lists them.
import type { Suite } from '../lib/suite.js';
import { cliStartup } from './cli-startup.js';

export const SUITES: Record<string, Suite> = {
  'cli-startup': cliStartup,
};
