export { CliError } from './cli-error';
export type { CliIo } from './io';
export { createProgram, runCli } from './program';
