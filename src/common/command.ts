import { parseArgs, type ParseArgsConfig } from 'node:util';

/** One `osteoscreen <command>`: its help text and its entry point (returns the exit code). */
export interface Command {
  name: string;
  summary: string;
  /** Full --help text (usage line, options, examples). */
  help: string;
  run(argv: string[]): Promise<number>;
}

export class UsageError extends Error {}

/** parseArgs with strict checking; throws UsageError with a readable message. */
export function parseOptions<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export function requireOption(v: string | undefined, flag: string): string {
  if (v === undefined || v === '') throw new UsageError(`missing required option ${flag}`);
  return v;
}

export function numberOption(v: string | undefined, flag: string, def: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`${flag} expects a number, got "${v}"`);
  return n;
}
