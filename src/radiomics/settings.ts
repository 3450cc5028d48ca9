/**
 * Radiomics settings: one zod schema holding every PyRadiomics setting we support, with PyRadiomics' defaults.
 * A PyRadiomics parameter file (YAML with `imageType`, `featureClass`, `setting`) is read by `loadParams`.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { OsteoError } from '../common/errors.js';
import { featureNames } from './features/index.js';
import { KNOWN_IMAGE_TYPES } from './filters/registry.js';

export const FEATURE_CLASS_NAMES = ['shape', 'shape2D', 'firstorder', 'glcm', 'glrlm', 'glszm', 'gldm', 'ngtdm'] as const;
export type FeatureClassName = (typeof FEATURE_CLASS_NAMES)[number];

const interpolatorSchema = z
  .enum(['sitkBSpline', 'sitkLinear', 'sitkNearestNeighbor', 'BSpline', 'Linear', 'NearestNeighbor'])
  .transform((s) => (s.startsWith('sitk') ? s.slice(4) : s) as 'BSpline' | 'Linear' | 'NearestNeighbor');

/** The `setting` section of a parameter file (names exactly as PyRadiomics). */
export const settingSchema = z
  .object({
    label: z.number().int().default(1).describe('Label value of the ROI in the mask'),
    binWidth: z.number().positive().default(25).describe('Fixed bin width for gray-level discretisation'),
    binCount: z.number().int().positive().nullable().default(null).describe('Fixed bin count (overrides binWidth when set)'),
    voxelArrayShift: z.number().default(0).describe('Added to intensities for firstorder Energy, TotalEnergy, RootMeanSquared'),
    normalize: z.boolean().default(false).describe('Normalise the whole image to mean 0, SD 1 (before resampling)'),
    normalizeScale: z.number().default(1).describe('Scale applied after normalisation'),
    removeOutliers: z.number().positive().nullable().default(null).describe('Clamp normalised values to +-n SD'),
    resampledPixelSpacing: z
      .array(z.number().min(0))
      .length(3)
      .nullable()
      .default(null)
      .describe('Resample to this spacing [x, y, z] mm (0 keeps the original spacing of that axis)'),
    interpolator: interpolatorSchema.default('BSpline').describe('Interpolator for resampling the image'),
    padDistance: z.number().int().min(0).default(5).describe('Voxels of padding kept around the ROI when resampling'),
    preCrop: z.boolean().default(false).describe('Crop image to the ROI (+padDistance) before filtering'),
    force2D: z.boolean().default(false).describe('Compute texture per slice (2D angles only)'),
    force2Ddimension: z.number().int().min(0).max(2).default(0).describe('Out-of-plane axis for force2D (0 = slices/z, 1 = rows/y, 2 = columns/x)'),
    minimumROIDimensions: z.number().int().min(1).max(3).default(2).describe('Minimum number of ROI dimensions with extent > 1'),
    minimumROISize: z.number().int().positive().nullable().default(null).describe('Minimum number of ROI voxels (exclusive)'),
    distances: z.array(z.number().int().positive()).min(1).default([1]).describe('Neighbour distances (infinity norm) for GLCM/NGTDM/GLDM'),
    symmetricalGLCM: z.boolean().default(true).describe('Add the transposed GLCM per angle'),
    weightingNorm: z
      .enum(['manhattan', 'euclidean', 'infinity', 'no_weighting'])
      .nullable()
      .default(null)
      .describe('Merge GLCM/GLRLM angles with this distance weighting instead of averaging per-angle features'),
    gldm_a: z.number().min(0).default(0).describe('GLDM dependence cut-off alpha'),
    correctMask: z.boolean().default(false).describe('Resample the mask onto the image grid when geometries differ'),
    geometryTolerance: z.number().positive().nullable().default(null).describe('Tolerance when comparing image and mask geometry (default 1e-6 relative to spacing)'),
    resegmentRange: z.array(z.number()).min(1).max(2).nullable().default(null).describe('Resegmentation thresholds'),
    resegmentMode: z.enum(['absolute', 'relative', 'sigma']).default('absolute').describe('Meaning of resegmentRange'),
    resegmentShape: z.boolean().default(false).describe('Also use the resegmented mask for shape features'),
    additionalInfo: z.boolean().default(true).describe('Add diagnostics to the output'),
  })
  .passthrough();

export type Setting = z.infer<typeof settingSchema>;

/** The same keys and checks as `settingSchema` without its defaults. */
function withoutDefaults<T extends z.ZodRawShape>(shape: T): { [K in keyof T]: z.ZodOptional<T[K] extends z.ZodDefault<infer I> ? I : T[K]> } {
  return Object.fromEntries(
    Object.entries(shape).map(([k, v]) => [k, (v instanceof z.ZodDefault ? (v.unwrap() as z.ZodType) : (v as z.ZodType)).optional()]),
  ) as unknown as { [K in keyof T]: z.ZodOptional<T[K] extends z.ZodDefault<infer I> ? I : T[K]> };
}

/**
 * The `setting` section as a model file records it: every key of `settingSchema` (same checks), none
 * required, no others (a misspelt key is an error). A key left out takes PyRadiomics' default when run.
 */
export const recordedSettingSchema = z.object(withoutDefaults(settingSchema.shape)).strict();

/** Per-image-type options (e.g. LoG sigma). Keys as in PyRadiomics; extra keys are kept. */
export type ImageTypeOptions = Record<string, unknown>;

export interface RadiomicsSettings {
  /** Enabled image types with their custom options, e.g. `{ Original: {}, LoG: { sigma: [1, 2] } }`. */
  imageType: Record<string, ImageTypeOptions>;
  /** Enabled feature classes; `null` or `[]` = all features of the class. */
  featureClass: Partial<Record<FeatureClassName, string[] | null>>;
  setting: Setting;
}

export { KNOWN_IMAGE_TYPES };

function normaliseImageTypeName(name: string): string {
  const hit = KNOWN_IMAGE_TYPES.find((k) => k.toLowerCase() === name.toLowerCase());
  if (!hit) throw new OsteoError('radiomics-params', `unknown image type "${name}" (known: ${KNOWN_IMAGE_TYPES.join(', ')})`, 400);
  return hit;
}

function normaliseClassName(name: string): FeatureClassName {
  const hit = FEATURE_CLASS_NAMES.find((k) => k.toLowerCase() === name.toLowerCase());
  if (!hit) throw new OsteoError('radiomics-params', `unknown feature class "${name}" (known: ${FEATURE_CLASS_NAMES.join(', ')})`, 400);
  return hit;
}

/**
 * Feature names of a `featureClass` list must exist in the class (exact spelling, as PyRadiomics, which raises
 * LookupError): a misspelt name would otherwise compute nothing without a word.
 */
function checkFeatureNames(cls: FeatureClassName, names: unknown[]): void {
  const known = featureNames(cls);
  for (const n of names) {
    if (typeof n === 'string' && known.includes(n)) continue;
    const near = typeof n === 'string' ? known.find((k) => k.toLowerCase() === n.toLowerCase()) : undefined;
    throw new OsteoError(
      'radiomics-params',
      `unknown feature "${String(n)}" in featureClass.${cls}${near ? ` (did you mean "${near}"? names are case-sensitive)` : ''}; known ${cls} features: ${known.join(', ')}`,
      400,
    );
  }
}

/**
 * Build settings from a parsed parameter-file object. Missing sections get PyRadiomics' defaults:
 * no `imageType` → Original only; no `featureClass` → all classes (shape2D only with force2D).
 */
export function settingsFromObject(obj: unknown): RadiomicsSettings {
  const o = (obj ?? {}) as Record<string, unknown>;
  if (typeof o !== 'object' || Array.isArray(o)) throw new OsteoError('radiomics-params', 'parameter file must be a mapping', 400);
  for (const k of Object.keys(o)) {
    if (!['imageType', 'featureClass', 'setting', 'voxelSetting'].includes(k)) {
      throw new OsteoError('radiomics-params', `unknown top-level key "${k}" in parameter file`, 400);
    }
  }
  const parsed = settingSchema.safeParse(o.setting ?? {});
  if (!parsed.success) {
    throw new OsteoError('radiomics-params', `invalid setting: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, 400);
  }
  const setting = parsed.data;
  const imageType: Record<string, ImageTypeOptions> = {};
  const it = o.imageType as Record<string, unknown> | undefined;
  if (it === undefined || it === null) imageType.Original = {};
  else {
    for (const [k, v] of Object.entries(it)) imageType[normaliseImageTypeName(k)] = (v ?? {}) as ImageTypeOptions;
  }
  const featureClass: RadiomicsSettings['featureClass'] = {};
  const fc = o.featureClass as Record<string, unknown> | undefined;
  if (fc === undefined || fc === null) {
    for (const c of FEATURE_CLASS_NAMES) if (c !== 'shape2D' || setting.force2D) featureClass[c] = null;
  } else {
    for (const [k, v] of Object.entries(fc)) {
      if (v !== null && v !== undefined && !Array.isArray(v)) throw new OsteoError('radiomics-params', `featureClass.${k} must be a list or empty`, 400);
      const cls = normaliseClassName(k);
      const names = (v as unknown[] | null | undefined) ?? null;
      if (names) checkFeatureNames(cls, names);
      featureClass[cls] = names as string[] | null;
    }
  }
  return { imageType, featureClass, setting };
}

/** Load a PyRadiomics parameter file (YAML or JSON path) or accept an already parsed object. */
export function loadParams(yamlPathOrObject: string | Record<string, unknown>): RadiomicsSettings {
  if (typeof yamlPathOrObject === 'string') {
    let text: string;
    try {
      text = readFileSync(yamlPathOrObject, 'utf8');
    } catch (e) {
      throw new OsteoError('radiomics-params', `cannot read parameter file ${yamlPathOrObject}: ${(e as Error).message}`, 400);
    }
    return settingsFromObject(parseYaml(text));
  }
  return settingsFromObject(yamlPathOrObject);
}

/** Defaults of PyRadiomics itself (Original image, all classes, default settings). */
export function pyradiomicsDefaults(): RadiomicsSettings {
  return settingsFromObject({});
}

/**
 * The reference model's settings (= shared radiomics-baseline/reference/params.yaml): Original, LoG 1–5 mm,
 * wavelet coif1, box-sigma radius 1, additive Gaussian noise seed 42, binWidth 25, all seven 3-D classes.
 */
export const DEFAULT_PARAMS_OBJECT = {
  imageType: {
    Original: {},
    LoG: { sigma: [1.0, 2.0, 3.0, 4.0, 5.0] },
    Wavelet: { wavelet: 'coif1', start_level: 0, level: 1 },
    BoxSigmaImage: { radius: 1 },
    AdditiveGaussianNoise: { mean: 0.0, standardDeviation: 1.0, seed: 42, numberOfWorkUnits: 1 },
  },
  featureClass: { shape: null, firstorder: null, glcm: null, glrlm: null, glszm: null, gldm: null, ngtdm: null },
  // Recorded in full (all equal to PyRadiomics' defaults) so that a model file states them.
  setting: {
    binWidth: 25,
    label: 1,
    voxelArrayShift: 0,
    padDistance: 5,
    distances: [1],
    symmetricalGLCM: true,
    gldm_a: 0,
    weightingNorm: null,
    normalize: false,
    resampledPixelSpacing: null,
    force2D: false,
  },
} as const;

export function defaultSettings(): RadiomicsSettings {
  return settingsFromObject(JSON.parse(JSON.stringify(DEFAULT_PARAMS_OBJECT)));
}

/** Copy of settings with `setting` keys overridden (validated). */
export function withSetting(s: RadiomicsSettings, patch: Partial<z.input<typeof settingSchema>>): RadiomicsSettings {
  const setting = settingSchema.parse({ ...s.setting, ...patch });
  return { imageType: { ...s.imageType }, featureClass: { ...s.featureClass }, setting };
}

/** Markdown table of the `setting` keys (default and description) generated from the schema. */
export function settingsDocsMarkdown(): string {
  const defaults = settingSchema.parse({}) as Record<string, unknown>;
  const shape = settingSchema.shape as Record<string, { description?: string }>;
  const rows = Object.keys(shape).map((k) => `| ${k} | ${JSON.stringify(defaults[k])} | ${shape[k]!.description ?? ''} |`);
  return ['| setting | default | description |', '|---|---|---|', ...rows].join('\n');
}
