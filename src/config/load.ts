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

/** A value of the type of an optional key that has no default (what its env var is coerced like). */
function sampleOf(t: any): unknown {
  while (t?._zod?.def?.type === 'optional' || t?._zod?.def?.type === 'nullable') t = t._zod.def.innerType;
  const type = t?._zod?.def?.type;
  return type === 'number' ? 0 : type === 'boolean' ? false : type === 'array' ? [] : '';
}

/** Every config key as [section, key, its default (or, for an optional key without one, a value of its type)]. */
function configKeys(): [string, string, unknown][] {
  const defaults = configSchema.parse({}) as Record<string, Record<string, unknown>>;
  const shape = configSchema.shape as Record<string, any>;
  const out: [string, string, unknown][] = [];
  for (const [section, sec] of Object.entries(shape)) {
    const inner = sec._zod.def.innerType.shape as Record<string, unknown>;
    for (const key of Object.keys(inner)) out.push([section, key, key in defaults[section]! ? defaults[section]![key] : sampleOf(inner[key])]);
  }
  return out;
}

/** Apply OSTEOSCREEN_<SECTION>_<KEY> env vars over a raw (pre-validation) config object. */
export function applyEnv(raw: Record<string, any>, env: NodeJS.ProcessEnv, fromEnv?: Map<string, string>): Record<string, any> {
  const out: Record<string, any> = structuredClone(raw);
  for (const [section, key, def] of configKeys()) {
    const name = envVarName(section, key);
    const v = env[name];
    if (v === undefined) continue;
    out[section] ??= {};
    let value = coerce(v, def, `${name} (${section}.${key})`); // errors name the variable and the key, as the schema's do
    // Destination lists: "AET@host:port,AET2@host2:port" (README: lists are comma-separated).
    if (section === 'output' && key === 'destinations' && Array.isArray(value)) value = value.map((d) => (typeof d === 'string' ? parseDestination(d, name) : d));
    out[section][key] = value;
    fromEnv?.set(`${section}.${key}`, name);
  }
  return out;
}

/**
 * OSTEOSCREEN_* variables read outside the config (not warned about as typos). The test-only hooks
 * (src/common/test-pause.ts) are among them: the service logs its own warning when one is set.
 */
export const OTHER_ENV_VARS = ['OSTEOSCREEN_CONFIG', 'OSTEOSCREEN_DEBUG', 'OSTEOSCREEN_SHARED_DIR', 'OSTEOSCREEN_TEST_PAUSE_AT', 'OSTEOSCREEN_TEST_FAULT'];

/** Every OSTEOSCREEN_* variable in `env` that matches no config key (a typo), with the closest real name. */
export function unknownEnvVars(env: NodeJS.ProcessEnv): { name: string; suggestion?: string }[] {
  const known = configKeys().map(([section, key]) => envVarName(section, key));
  const all = new Set([...known, ...OTHER_ENV_VARS]);
  return Object.keys(env)
    .filter((n) => n.startsWith('OSTEOSCREEN_') && !all.has(n))
    .sort()
    .map((name) => {
      let best: string | undefined;
      let bestD = Infinity;
      for (const k of known) {
        const d = editDistance(name, k);
        if (d < bestD) [best, bestD] = [k, d];
      }
      return bestD <= Math.max(3, Math.floor(name.length / 5)) ? { name, suggestion: best } : { name };
    });
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** Name each problem by where its value came from: the env var, or the file / defaults. */
function describeIssues(err: z.ZodError, source: string, fromEnv: Map<string, string>): string {
  return err.issues
    .map((i) => {
      const key = i.path.join('.') || '(root)';
      const envName = fromEnv.get(i.path.slice(0, 2).join('.'));
      return envName ? `${envName} (${key}): ${i.message}` : `${source}: ${key}: ${i.message}`;
    })
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
  const fromEnv = new Map<string, string>();
  raw = applyEnv(raw, env, fromEnv);
  if (opts.overrides) {
    for (const [s, v] of Object.entries(opts.overrides)) raw[s] = { ...(raw[s] ?? {}), ...v };
  }
  if (Array.isArray(raw.output?.destinations)) {
    raw.output.destinations = raw.output.destinations.map((d: unknown) => (typeof d === 'string' ? parseDestination(d, `${source}: output.destinations`) : d));
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(describeIssues(parsed.error, source, fromEnv));
  const cfg = parsed.data;
  for (const [list, items] of [['stow', cfg.output.stow], ['webhooks', cfg.output.webhooks], ['hl7', cfg.output.hl7], ['fhir', cfg.output.fhir]] as const) {
    items.forEach((d, i) => {
      if (d.caFile && !existsSync(d.caFile)) throw new ConfigError(`${fromEnv.get(`output.${list}`) ?? source}: output.${list}.${i}.caFile: file not found: ${d.caFile}`);
    });
  }
  if (cfg.output.destination) cfg.output.destinations = [...cfg.output.destinations, parseDestination(cfg.output.destination, fromEnv.get('output.destination') ?? 'output.destination')];
  for (const key of ['excludeDescription', 't1Description', 't2Description'] as const) {
    try {
      new RegExp(cfg.selection[key], 'i');
    } catch (e) {
      // Named like the schema's errors: by the variable when the value came from one, else by the file / defaults.
      const envName = fromEnv.get(`selection.${key}`);
      const where = envName ? `${envName} (selection.${key})` : `${source}: selection.${key}`;
      throw new ConfigError(`${where}: invalid regular expression: ${(e as Error).message}`);
    }
  }
  return cfg;
}

/** "AET@host:port" -> Destination; `where` names the source in errors (key or env var). */
export function parseDestination(s: string, where = 'output.destination'): Destination {
  const m = /^([^@]{1,16})@(.+):(\d{1,5})$/.exec(s.trim());
  if (!m) throw new ConfigError(`${where}: expected AET@host:port, got "${s}"`);
  const port = Number(m[3]);
  if (port < 1 || port > 65535) throw new ConfigError(`${where}: port out of range in "${s}"`);
  return { aeTitle: m[1]!, host: m[2]!, port };
}

/** Resolve a path from the config relative to the install folder (models) when not absolute. */
export function resolveInstallPath(p: string): string {
  return path.isAbsolute(p) ? p : path.resolve(INSTALL_DIR, p);
}

/** Effective config for display, secrets masked. */
export function maskedConfig(cfg: Config): Config {
  const c = structuredClone(cfg);
  const mask = '********';
  if (c.http.token) c.http.token = mask;
  for (const s of [...c.output.stow, ...c.output.fhir, ...c.backfill.dicomweb]) {
    if (s.token) s.token = mask;
    if (s.password) s.password = mask;
    s.url = maskQuery(s.url);
  }
  for (const w of c.output.webhooks) {
    w.secret = mask;
    w.url = maskQuery(w.url);
  }
  return c;
}

/** A URL with its query string masked (webhook URLs often carry a token there). */
export function maskQuery(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q) + '?********';
}
