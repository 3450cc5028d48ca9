import { z } from 'zod';
import { featureNames } from '../radiomics/features/index.js';
import { IMAGE_TYPE_OPTIONS, IMAGE_TYPE_REGISTRY } from '../radiomics/filters/registry.js';
import { FEATURE_CLASS_NAMES, recordedSettingSchema, type FeatureClassName } from '../radiomics/settings.js';
import { ROI_LEVELS } from '../segmentation/roi.js';

/**
 * The radscore model file (`models/*.json`), format "osteoscreen-radscore" version 1.
 *
 * A model always travels with how its features are made (`extraction`): image types and filter
 * parameters, bin width and the other PyRadiomics settings, and the ROI rule. Each term names one
 * PyRadiomics feature of one sequence, its LASSO coefficient and the mean/SD used to Z-score it:
 *
 *   radscore = intercept + Σ coefficient_i · (value_i − mean_i) / sd_i,   flag = radscore > cutoff
 *
 * `normalisation.source` says where the means/SDs come from: `placeholder` (order-of-magnitude guesses,
 * NOT from data: the reference study did not publish them), `training` (the cohort the model was fitted
 * on) or `calibration` (a site cohort, `osteoscreen calibrate`). `calibrated` is true only when the
 * means/SDs (and possibly cut-off) were learned on the site's own data.
 *
 * `hash` is "sha256:" + the SHA-256 of the canonical JSON of every other field (keys sorted), checked on load.
 */

export const SEQUENCES = ['T1', 'T2'] as const;
export type Sequence = (typeof SEQUENCES)[number];

/** Feature classes a model may use: the radiomics feature registry's. */
export const FEATURE_CLASSES = FEATURE_CLASS_NAMES;
export type FeatureClass = FeatureClassName;

/**
 * `<imagetype>_<class>_<Feature>` as PyRadiomics writes it, e.g. `wavelet-LLH_glszm_LargeAreaHighGrayLevelEmphasis`
 * (class names from the feature registry).
 */
export const FEATURE_NAME_RE = new RegExp(`^([A-Za-z0-9.-]+)_(${FEATURE_CLASS_NAMES.join('|')})_([A-Za-z0-9]+)$`);

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const positive = finite.refine((v) => v > 0, 'must be > 0');
const int = z.number().int();

export const termSchema = z
  .object({
    sequence: z.enum(SEQUENCES).describe('MR sequence the feature is computed on'),
    feature: z.string().regex(FEATURE_NAME_RE, 'must be a PyRadiomics feature name <imagetype>_<class>_<Feature>').describe('PyRadiomics feature name'),
    coefficient: finite.describe('LASSO coefficient of the Z-scored feature'),
    mean: finite.describe('Normalisation mean (see normalisation.source)'),
    sd: positive.describe('Normalisation SD (sample SD, n-1)'),
    basis: z.string().optional().describe('How the placeholder mean/SD was guessed (placeholder normalisation only)'),
    observed: z
      .object({ min: finite, max: finite })
      .strict()
      .optional()
      .describe('Observed range of the feature in the cohort the mean/SD were learned from (out-of-range guard)'),
    note: z.string().optional(),
  })
  .strict();
export type Term = z.infer<typeof termSchema>;

/** Enabled image types and their options: the filter registry's option schemas (strict), each optional. */
export const imageTypesSchema = z.object(optionalEach(IMAGE_TYPE_OPTIONS)).strict();
export type ImageTypes = z.infer<typeof imageTypesSchema>;

/**
 * How a model's features are made, in one object: image types, feature classes and PyRadiomics settings (the
 * radiomics engine's own schemas; a setting left out takes PyRadiomics' default), and the ROI rule the
 * analysis measures with (`roi`, the segmentation's RoiSpec).
 */
export const extractionSchema = z
  .object({
    imageTypes: imageTypesSchema.describe('Enabled image types and their filter parameters (PyRadiomics parameter-file keys)'),
    featureClasses: z.array(z.enum(FEATURE_CLASS_NAMES)).min(1),
    settings: recordedSettingSchema,
    roi: z
      .object({
        vertebrae: z.array(z.enum(ROI_LEVELS)).min(1).describe('Bodies in the ROI (of the L1-L4 the QA gate checks)'),
        slicesPerBody: int
          .min(1)
          .refine((n) => n % 2 === 1, 'must be odd (the mid-sagittal slice and as many on each side)')
          .describe('Sagittal slices per body: the mid-sagittal slice of the body and (n-1)/2 on each side'),
        erosionMm: finite.refine((v) => v >= 0, 'must be >= 0').describe('Erosion of each body mask to exclude the cortical rim (mm)'),
        combine: z.enum(['union']).describe('union: one ROI = all bodies together, features computed once per sequence'),
        description: z.string(),
      })
      .strict(),
  })
  .strict();
export type Extraction = z.infer<typeof extractionSchema>;

/** A research-only sub-model (single-sequence T1 or T2 radscore); same normalisation fields per term. */
export const probabilitySchema = z
  .object({
    method: z.literal('logistic'),
    a: finite,
    b: finite,
    fittedOn: z.string(),
    n: int.min(1),
  })
  .strict()
  .describe('Logistic recalibration p = 1/(1+exp(-(a + b*radscore))), used for Hosmer-Lemeshow, calibration curve and DCA');
export type ProbabilityMap = z.infer<typeof probabilitySchema>;

export const subModelSchema = z
  .object({ terms: z.array(termSchema).min(1), intercept: finite, cutoff: finite, probability: probabilitySchema.optional() })
  .strict();
export type SubModel = z.infer<typeof subModelSchema>;

export const modelSchema = z
  .object({
    format: z.literal('osteoscreen-radscore'),
    formatVersion: z.literal(1),
    name: z.string().min(1).regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, . _ - only'),
    version: z.string().regex(/^\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$/, 'must be a semantic version like 1.0.0'),
    description: z.string(),
    calibrated: z.boolean().describe('True only when means/SDs were learned on the site\'s own cohort'),
    intercept: finite,
    cutoff: finite.describe('flag = radscore > cutoff'),
    terms: z.array(termSchema).min(1),
    normalisation: z
      .object({
        source: z.enum(['placeholder', 'training', 'calibration']),
        description: z.string(),
        n: int.min(2).optional(),
        date: z.string().optional(),
        data: z.string().optional().describe('sha256 of the feature table the means/SDs were learned from'),
        statistics: z.enum(['mean-sd', 'median-mad']).optional().describe('mean-sd: mean and sample SD; median-mad: median and MAD x 1.4826 (robust)'),
        scanner: z.string().optional().describe('Scanner key (manufacturer / model / station) a per-scanner calibration applies to'),
      })
      .strict(),
    extraction: extractionSchema,
    probability: probabilitySchema.optional(),
    provenance: z
      .object({
        source: z.string(),
        created: z.string(),
        software: z.string(),
        trainingN: int.min(0).nullable(),
        trainingAbnormal: int.min(0).nullable().optional(),
        auc: finite.nullable(),
        aucCohort: z.string().optional(),
        lambda: finite.optional(),
        lambdaRule: z.string().optional(),
        family: z.enum(['gaussian', 'binomial']).optional(),
        seed: int.optional(),
        cutoffs: z.record(z.string(), finite).optional(),
        notes: z.array(z.string()).optional(),
      })
      .strict(),
    labels: z.object({ '0': z.string(), '1': z.string() }).strict(),
    singleSequence: z.object({ t1: subModelSchema.optional(), t2: subModelSchema.optional() }).strict().optional(),
    hash: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  })
  .strict()
  .superRefine((m, ctx) => {
    const all = [...m.terms.map((t, i) => ({ t, path: ['terms', i] as (string | number)[] }))];
    for (const k of ['t1', 't2'] as const) {
      m.singleSequence?.[k]?.terms.forEach((t, i) => all.push({ t, path: ['singleSequence', k, 'terms', i] }));
    }
    for (const { t, path } of all) {
      const problem = termExtractionProblem(t.feature, m.extraction);
      if (problem) ctx.addIssue({ code: 'custom', path: [...path, 'feature'], message: problem });
    }
    const seen = new Set<string>();
    m.terms.forEach((t, i) => {
      const key = `${t.sequence}:${t.feature}`;
      if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['terms', i], message: `duplicate term ${key}` });
      seen.add(key);
    });
    if (m.calibrated && m.normalisation.source === 'placeholder') {
      ctx.addIssue({ code: 'custom', path: ['calibrated'], message: 'a model with placeholder normalisation cannot be calibrated: true' });
    }
  });
export type RadscoreModel = z.infer<typeof modelSchema>;
/** A model before its hash is computed. */
export type UnhashedModel = Omit<RadscoreModel, 'hash'>;

/**
 * Returns why `feature` cannot be produced by `extraction`, or null when it can: the class must be enabled and
 * know the feature (feature registry), and an enabled image type must yield the image (filter registry).
 */
export function termExtractionProblem(feature: string, extraction: Extraction): string | null {
  const m = FEATURE_NAME_RE.exec(feature);
  if (!m) return `"${feature}" is not a PyRadiomics feature name`;
  const [, imageType, cls, name] = m as unknown as [string, string, FeatureClass, string];
  if (!extraction.featureClasses.includes(cls)) return `feature class "${cls}" of ${feature} is not in extraction.featureClasses`;
  const known = featureNames(cls);
  if (!known.includes(name)) {
    const near = known.find((k) => k.toLowerCase() === name.toLowerCase());
    return `${cls} has no feature "${name}"${near ? ` (did you mean "${near}"?)` : ''}; known: ${known.join(', ')}`;
  }
  if ((cls === 'shape' || cls === 'shape2D') && imageType !== 'original') return `shape features exist only for the original image (${feature})`;
  const enabled = Object.entries(extraction.imageTypes) as [string, Record<string, unknown> | undefined][];
  for (const [key, opts] of enabled) {
    const names = IMAGE_TYPE_REGISTRY[key]!.names({ ...extraction.settings, ...opts });
    if (names.some((n) => n.toLowerCase() === imageType.toLowerCase())) return null;
  }
  const yielding = Object.values(IMAGE_TYPE_REGISTRY).find((e) => imageType.toLowerCase().startsWith(e.prefix));
  if (!yielding) return `unknown image type "${imageType}" in ${feature}`;
  const opts = extraction.imageTypes[yielding.key as keyof ImageTypes];
  if (!opts) return `${feature} needs imageTypes.${yielding.key}`;
  if (yielding.key === 'LoG') {
    const sigma = /^log-sigma-(\d+)-(\d+)-mm-3D$/.exec(imageType);
    if (sigma) return `${feature} needs LoG sigma ${Number(`${sigma[1]}.${sigma[2]}`)} in imageTypes.LoG.sigma`;
  }
  return `${feature}: imageTypes.${yielding.key} with these options does not yield "${imageType}" (it yields ${yielding.names({ ...extraction.settings, ...opts }).join(', ')})`;
}

/** `{ k: schema.optional() }` for every schema of a map (typed). */
function optionalEach<T extends Record<string, z.ZodType>>(shape: T): { [K in keyof T]: z.ZodOptional<T[K]> } {
  return Object.fromEntries(Object.entries(shape).map(([k, v]) => [k, v.optional()])) as { [K in keyof T]: z.ZodOptional<T[K]> };
}

/** Column name of a term in a feature table: `T1_original_shape_VoxelVolume`. */
export function columnName(sequence: Sequence, feature: string): string {
  return `${sequence}_${feature}`;
}

/** Splits a feature-table column `T1_<feature>` into sequence and feature; null for other columns. */
export function parseColumnName(col: string): { sequence: Sequence; feature: string } | null {
  const m = /^(T1|T2)_(.+)$/.exec(col);
  return m ? { sequence: m[1] as Sequence, feature: m[2]! } : null;
}
