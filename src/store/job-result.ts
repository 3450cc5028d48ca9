/**
 * The job result as the pipeline stores it (jobs.result, JSON) and the API, page, housekeeping and predecessor
 * lookup read it: one schema, parsed on read. Flag, score, cut-off and model version are also real columns of the
 * jobs table (written from this record), so filters such as `/api/jobs?flagged=` run in SQL.
 */
import { z } from 'zod';

const seq = z.enum(['T1', 'T2']);
/** One model term of the study: its value, the model's normalisation, z and contribution to the radscore. */
const term = z.object({ sequence: seq, feature: z.string(), value: z.number(), mean: z.number(), sd: z.number(), z: z.number(), coefficient: z.number(), contribution: z.number() });
const outOfRange = z.object({ sequence: seq, feature: z.string(), value: z.number(), z: z.number(), rule: z.enum(['max-abs-z', 'observed-range']), message: z.string() });
const modelChoice = z.object({ scanner: z.string(), source: z.enum(['default', 'scanner-calibration']), calibrationId: z.number().optional(), reason: z.string() });

export const jobResultSchema = z
  .object({
    kind: z.enum(['scored', 'not-assessable']),
    reason: z.string().nullable().default(null),
    score: z.number().nullable().default(null),
    cutoff: z.number().nullable().default(null),
    /** score > cutoff; null when not assessable or suppressed (see flagSuppressed). */
    flag: z.boolean().nullable().default(null),
    /** Why a scored study has no flag, in words (uncalibrated model / out-of-range terms). */
    flagSuppressed: z.string().nullable().default(null),
    noFlag: z.array(z.object({ kind: z.enum(['uncalibrated', 'out-of-range']), message: z.string() })).default([]),
    outOfRange: z.array(outOfRange).default([]),
    calibrated: z.boolean().nullable().default(null),
    model: z.object({ name: z.string(), version: z.string(), hash: z.string() }).nullable().default(null),
    /** Which model was used and why (default, or the approved calibration of the study's scanner). */
    modelChoice: modelChoice.nullable().default(null),
    terms: z.array(term).default([]),
    levels: z.array(z.object({ level: z.string(), volumeMm3: z.number(), midSlice: z.number() })).default([]),
    scanner: z.object({ manufacturer: z.string(), model: z.string(), station: z.string() }).nullable().default(null),
    outputs: z
      .array(z.object({ kind: z.string(), sopInstanceUid: z.string(), seriesInstanceUid: z.string().optional(), sopClassUid: z.string().optional() }))
      .default([]),
  })
  .strict();
export type JobResult = z.infer<typeof jobResultSchema>;
/** What the pipeline writes (before defaults are applied on read). */
export type JobResultInput = z.input<typeof jobResultSchema>;

/** Parse a stored result; null for none or for a row that does not match the schema (logged by the caller). */
export function parseJobResult(json: string | null | undefined): JobResult | null {
  if (!json) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return null;
  }
  const r = jobResultSchema.safeParse(raw);
  return r.success ? r.data : null;
}

/** The columns kept beside the JSON. */
export function jobResultColumns(r: JobResult | null): { flag: number | null; score: number | null; cutoff: number | null; modelVersion: string | null } {
  return {
    flag: r?.flag === true ? 1 : r?.flag === false ? 0 : null,
    score: r?.score ?? null,
    cutoff: r?.cutoff ?? null,
    modelVersion: r?.model?.version ?? null,
  };
}
