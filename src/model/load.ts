import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { OsteoError } from '../common/errors.js';
import { modelSchema, type RadscoreModel, type UnhashedModel } from './schema.js';

/** JSON with object keys sorted recursively (arrays keep their order): the input of the content hash. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new Error('canonicalJson: non-finite number');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

/** "sha256:<hex>" of the canonical JSON of the model without its `hash` field. */
export function modelHash(model: UnhashedModel | RadscoreModel): string {
  const { hash: _ignored, ...rest } = model as RadscoreModel;
  return 'sha256:' + createHash('sha256').update(canonicalJson(rest)).digest('hex');
}

/** Adds (or replaces) the hash and validates the result. */
export function finaliseModel(model: UnhashedModel | RadscoreModel): RadscoreModel {
  const { hash: _old, ...rest } = model as RadscoreModel;
  return parseModel({ ...rest, hash: modelHash(rest) }, '(in memory)');
}

function formatIssues(issues: { path: PropertyKey[]; message: string }[]): string {
  return issues
    .slice(0, 20)
    .map((i) => `  - ${i.path.length ? i.path.map(String).join('.') : '(root)'}: ${i.message}`)
    .join('\n');
}

/** Validates a parsed JSON value as a radscore model (schema, term/extraction consistency, hash). */
export function parseModel(json: unknown, origin = '(model)', opts: { verifyHash?: boolean } = {}): RadscoreModel {
  const r = modelSchema.safeParse(json);
  if (!r.success) {
    throw new OsteoError('model-invalid', `invalid radscore model ${origin}:\n${formatIssues(r.error.issues)}`);
  }
  if (opts.verifyHash !== false) {
    const want = modelHash(r.data);
    if (r.data.hash !== want) {
      throw new OsteoError(
        'model-hash-mismatch',
        `radscore model ${origin}: content hash mismatch (file says ${r.data.hash}, content is ${want}). ` +
          'The file was edited after it was written; regenerate it with `osteoscreen train`/`calibrate`, or re-hash it deliberately with `osteoscreen calibrate --rehash`.',
      );
    }
  }
  return r.data;
}

/** Reads and validates a model file; throws OsteoError('model-invalid' | 'model-hash-mismatch' | 'model-unreadable'). */
export function loadModel(path: string, opts: { verifyHash?: boolean } = {}): RadscoreModel {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new OsteoError('model-unreadable', `cannot read radscore model ${path}: ${(e as Error).message}`, 500, { cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new OsteoError('model-invalid', `radscore model ${path} is not valid JSON: ${(e as Error).message}`, 500, { cause: e });
  }
  return parseModel(json, path, opts);
}

/** Writes a model (re-hashed, validated) atomically, 2-space indented. */
export function saveModel(path: string, model: UnhashedModel | RadscoreModel): RadscoreModel {
  const m = finaliseModel(model);
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(m, null, 2) + '\n');
  renameSync(tmp, path);
  return m;
}
