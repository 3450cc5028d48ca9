import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { z } from 'zod';
import { configSchema, type Config, type Destination } from './schema.js';

/** Folder the package is installed in (holds models/, config/). */
export const INSTALL_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** camelCase -> UPPER_SNAKE (aeTitle -> AE_TITLE, minFreeMb -> MIN_FREE_MB). */
export function upperSnake(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

export function envVarName(section: string, key: string): string {
  return `OSTEOSCREEN_${upperSnake(section)}_${upperSnake(key)}`;
}

function coerce(raw: string, like: unknown, name: string): unknown {
  if (typeof like === 'number') {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) throw new ConfigError(`${name}: expected a number, got "${raw}"`);
    return n;
  }
  if (typeof like === 'boolean') {
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
    throw new ConfigError(`${name}: expected true/false, got "${raw}"`);
  }
  if (Array.isArray(like)) {
    const t = raw.trim();
    if (t.startsWith('[')) {
      try {
        return JSON.parse(t);
      } catch {
        throw new ConfigError(`${name}: expected a JSON array or a comma-separated list`);
      }
    }
    return t === '' ? [] : t.split(',').map((s) => s.trim()).filter(Boolean);
  }
  return raw;
}

/** Apply OSTEOSCREEN_<SECTION>_<KEY> env vars over a raw (pre-validation) config object. */
export function applyEnv(raw: Record<string, any>, env: NodeJS.ProcessEnv): Record<string, any> {
  const defaults = configSchema.parse({}) as Record<string, Record<string, unknown>>;
  const out: Record<string, any> = structuredClone(raw);
  for (const [section, keys] of Object.entries(defaults)) {
    for (const [key, def] of Object.entries(keys)) {
      const name = envVarName(section, key);
      const v = env[name];
      if (v === undefined) continue;
      out[section] ??= {};
      out[section][key] = coerce(v, def, name);
    }
  }
  return out;
}

function describeIssues(err: z.ZodError, source: string): string {
  return err.issues
    .map((i) => `${source}: ${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('\n');
}

/** Reject keys the schema does not know (typos would otherwise be silently ignored). */
function unknownKeys(raw: Record<string, any>): string[] {
  const shape = configSchema.shape as Record<string, any>;
  const bad: string[] = [];
  for (const [section, val] of Object.entries(raw)) {
    if (!(section in shape)) {
      bad.push(section);
      continue;
    }
    const inner = shape[section]?.unwrap?.()?.shape ?? shape[section]?._zod?.def?.innerType?.shape;
    if (inner && val && typeof val === 'object') {
      for (const k of Object.keys(val)) if (!(k in inner)) bad.push(`${section}.${k}`);
    }
  }
  return bad;
}

export interface LoadOptions {
  file?: string;
  env?: NodeJS.ProcessEnv;
  overrides?: Record<string, any>;
}

/** Load the config: YAML file (optional) <- env vars <- explicit overrides; validated. */
export function loadConfig(opts: LoadOptions = {}): Config {
  const env = opts.env ?? process.env;
  const file = opts.file ?? env.OSTEOSCREEN_CONFIG;
  let raw: Record<string, any> = {};
  let source = 'defaults';
  if (file) {
    if (!existsSync(file)) throw new ConfigError(`config file not found: ${file}`);
    source = file;
    try {
      raw = YAML.parse(readFileSync(file, 'utf8')) ?? {};
    } catch (e) {
      throw new ConfigError(`${file}: not valid YAML: ${(e as Error).message}`);
    }
    if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`${file}: top level must be a mapping of sections`);
  }
  const bad = unknownKeys(raw);
  if (bad.length) throw new ConfigError(`${source}: unknown key(s): ${bad.join(', ')}`);
  raw = applyEnv(raw, env);
  if (opts.overrides) {
    for (const [s, v] of Object.entries(opts.overrides)) raw[s] = { ...(raw[s] ?? {}), ...v };
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(describeIssues(parsed.error, source));
  const cfg = parsed.data;
  if (cfg.output.destination) cfg.output.destinations = [...cfg.output.destinations, parseDestination(cfg.output.destination)];
  for (const key of ['excludeDescription', 't1Description', 't2Description'] as const) {
    try {
      new RegExp(cfg.selection[key], 'i');
    } catch (e) {
      throw new ConfigError(`${source}: selection.${key}: invalid regular expression: ${(e as Error).message}`);
    }
  }
  return cfg;
}

/** "AET@host:port" -> Destination. */
export function parseDestination(s: string): Destination {
  const m = /^([^@]{1,16})@(.+):(\d{1,5})$/.exec(s.trim());
  if (!m) throw new ConfigError(`output.destination: expected AET@host:port, got "${s}"`);
  const port = Number(m[3]);
  if (port < 1 || port > 65535) throw new ConfigError(`output.destination: port out of range in "${s}"`);
  return { aeTitle: m[1]!, host: m[2]!, port };
}

/** Resolve a path from the config relative to the install folder (models) when not absolute. */
export function resolveInstallPath(p: string): string {
  return path.isAbsolute(p) ? p : path.resolve(INSTALL_DIR, p);
}

/** Effective config for display, secrets masked. */
export function maskedConfig(cfg: Config): Config {
  const c = structuredClone(cfg);
  if (c.http.token) c.http.token = '********';
  return c;
}
