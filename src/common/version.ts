import { createRequire } from 'node:module';

/** The package version (package.json), reported in /health, reports and logs. */
export const VERSION: string = createRequire(import.meta.url)('../../package.json').version;
