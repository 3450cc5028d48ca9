/**
 * Feature extraction as PyRadiomics `RadiomicsFeatureExtractor.execute`: load/check the mask, optional normalisation
 * and resampling, shape on the original mask, optional resegmentation, then every enabled image type (filters applied
 * to the whole image) cropped to the ROI bounding box and passed to the enabled feature classes.
 * Feature names are `<imagetype>_<class>_<Feature>`; values PyRadiomics would give as NaN are `null` with the
 * reason in `diagnostics.nullFeatures`.
 */
import { logger } from '../common/log.js';
import type { Vec3 } from '../volume/types.js';
import { indexToPoint } from '../volume/types.js';
import { discretize, type Discretized } from './binning.js';
import { FEATURE_CLASSES, IMAGE_CLASSES } from './features/index.js';
import type { FeatureInput } from './features/types.js';
import { filteredImages, imageTypeEntry, selectOptions } from './filters/registry.js';
import { ENGINE_VERSION, imageDiagnostics, maskDiagnostics, roiBBox } from './diagnostics.js';
import type { RImage, RMask } from './image.js';
import {
  checkMask,
  checkRoiInsideImage,
  geometryMismatch,
  labelMask,
  normalizeImage,
  resampleMaskNearest,
  resegmentMask,
  RoiError,
  type BinaryMask,
} from './preprocess.js';
import { resampleImageAndMask } from './resample.js';
import { bboxSize, cropRoi, type BBox } from './roi.js';
import type { FeatureClassName, RadiomicsSettings } from './settings.js';

const log = logger('radiomics');
export { ENGINE_VERSION, arrayHash } from './diagnostics.js';

export interface ExtractOptions {
  /** Feature names to compute (`<imagetype>_<class>_<Feature>`, case-insensitive); default all enabled. */
  only?: string[];
  /**
   * Filter the whole image even where a window around the ROI gives identical values (wavelet, box-sigma);
   * for verification only.
   */
  wholeImageFilters?: boolean;
  /** Called after each image type's features are done (for progress output). */
  onImage?: (name: string, done: number) => void;
}

export interface ExtractResult {
  features: Record<string, number | null>;
  diagnostics: Record<string, unknown>;
}

/** Crop image and mask to the ROI bounding box ± pad voxels (PyRadiomics preCrop / cropToTumorMask). */
function cropWithPad(img: RImage, m: BinaryMask, pad: number): { image: RImage; mask: BinaryMask } {
  const bb = roiBBox(m);
  if (!bb) return { image: img, mask: m };
  const box: BBox = { lo: [0, 0, 0], hi: [0, 0, 0] };
  for (let k = 0; k < 3; k++) {
    box.lo[k] = Math.max(bb.lo[k]! - pad, 0);
    box.hi[k] = Math.min(bb.hi[k]! + pad, img.dims[k]! - 1);
  }
  const origin = indexToPoint(img, box.lo[0], box.lo[1], box.lo[2]);
  const dims = bboxSize(box) as Vec3;
  const r = cropRoi(img.data, m.data, img.dims, img.spacing, box);
  return {
    image: { ...img, dims, origin, data: r.values },
    mask: { ...m, dims: [...dims] as Vec3, origin: [...origin] as Vec3, data: r.mask },
  };
}

/** Which features to compute for one image name / class, given `only`. */
interface Plan {
  wantAll: boolean;
  byPrefix: Map<string, Map<string, Set<string> | null>>; // imageName → class → features
}

function makePlan(only: string[] | undefined): Plan {
  const byPrefix = new Map<string, Map<string, Set<string> | null>>();
  if (!only) return { wantAll: true, byPrefix };
  for (const full of only) {
    const lower = full.toLowerCase();
    // image names contain '_' only as separators: <image>_<class>_<Feature>
    const parts = lower.split('_');
    if (parts.length < 3) throw new RoiError(`feature name "${full}" is not <imagetype>_<class>_<Feature>`);
    const feat = parts.pop()!;
    const cls = parts.pop()!;
    const img = parts.join('_');
    let m = byPrefix.get(img);
    if (!m) byPrefix.set(img, (m = new Map()));
    let s = m.get(cls);
    if (!s) m.set(cls, (s = new Set()));
    s.add(feat);
  }
  return { wantAll: false, byPrefix };
}

function planImage(plan: Plan, imageName: string): Map<string, Set<string> | null> | null {
  if (plan.wantAll) return new Map();
  return plan.byPrefix.get(imageName.toLowerCase()) ?? null;
}

/** Compute the enabled classes for one (cropped) image. */
function computeClasses(
  imageName: string,
  input: FeatureInput,
  classes: FeatureClassName[],
  settings: RadiomicsSettings,
  want: Map<string, Set<string> | null>,
  plan: Plan,
  out: Record<string, number | null>,
  reasons: Record<string, string>,
): void {
  for (const cls of classes) {
    const def = FEATURE_CLASSES[cls];
    const enabled = settings.featureClass[cls];
    // PyRadiomics lists a class's features in Python's dir() order (ASCII sort of the names).
    let names = Object.keys(def.features).sort();
    if (enabled && enabled.length) names = names.filter((n) => enabled.includes(n));
    if (!plan.wantAll) {
      const w = want.get(cls.toLowerCase());
      if (!w) continue;
      names = names.filter((n) => w.has(n.toLowerCase()));
    }
    if (!names.length) continue;
    const ctx = def.prepare(input);
    for (const n of names) {
      const key = `${imageName}_${cls}_${n}`;
      let v: number;
      try {
        v = def.features[n]!.compute(ctx);
      } catch (e) {
        v = NaN;
        reasons[key] = (e as Error).message;
      }
      if (Number.isFinite(v)) out[key] = v;
      else {
        out[key] = null;
        reasons[key] ??= def.features[n]!.nanReason ?? def.nanReason ?? (Number.isNaN(v) ? 'undefined for this ROI (NaN)' : 'infinite value');
      }
    }
  }
}

function makeInput(img: RImage, mask: Uint8Array, bbox: BBox, settings: RadiomicsSettings): FeatureInput {
  const roi = cropRoi(img.data, mask, img.dims, img.spacing, bbox);
  let disc: Discretized | undefined;
  return {
    roi,
    setting: settings.setting,
    discretized: () => (disc ??= discretize(roi.values, roi.mask, settings.setting)),
  };
}

/**
 * Options passed to a filter generator: settings merged with the image type's own options (as PyRadiomics),
 * restricted to the derived images the plan asks for; null when it needs none of them.
 */
function generatorOptions(type: string, settings: RadiomicsSettings, plan: Plan): Record<string, unknown> | null {
  const entry = imageTypeEntry(type);
  if (!entry) throw new RoiError(`image type ${type} is not available`);
  const opts: Record<string, unknown> = { ...settings.setting, ...settings.imageType[type] };
  return selectOptions(entry, opts, plan.wantAll ? undefined : (name) => plan.byPrefix.has(name));
}

/**
 * Whether image type `type` (with its own options) yields any of the `only` features (all when `only` is unset).
 * Used to skip filters (and whole worker jobs) that no requested feature needs.
 */
export function imageTypeNeeded(type: string, settings: RadiomicsSettings, only?: string[]): boolean {
  return generatorOptions(type, settings, makePlan(only)) !== null;
}

/**
 * Extract features of `image` inside `mask` (voxels equal to `settings.setting.label`).
 * Throws RoiError (code radiomics-roi) when the ROI cannot be used, as PyRadiomics raises ValueError.
 */
export function extractFeatures(image: RImage, mask: RMask, settings: RadiomicsSettings, opts: ExtractOptions = {}): ExtractResult {
  return extractPrepared(prepareRoi(image, mask, settings), settings, opts);
}

/** Image and masks after loading checks and preprocessing, ready for feature computation (shareable). */
export interface PreparedRoi {
  image: RImage;
  /** ROI used for shape (the original mask unless resegmentShape). */
  shapeMask: Uint8Array;
  /** ROI used for all other classes (resegmented when resegmentRange is set). */
  featMask: Uint8Array;
  bbox: BBox;
  diagnostics: Record<string, unknown>;
  /** Preprocessing time (s). */
  seconds: number;
}

/**
 * PyRadiomics' steps before feature computation: label mask, normalisation, resampling, preCrop, geometry check /
 * correctMask, checkMask (dimensions, size), resegmentation; with the diagnostics of each step.
 */
export function prepareRoi(image: RImage, mask: RMask, settings: RadiomicsSettings): PreparedRoi {
  const s = settings.setting;
  const t0 = Date.now();
  const diagnostics: Record<string, unknown> = {};
  diagnostics['diagnostics_Versions_Engine'] = ENGINE_VERSION;
  diagnostics['diagnostics_Configuration_Settings'] = { ...s };
  diagnostics['diagnostics_Configuration_EnabledImageTypes'] = settings.imageType;
  imageDiagnostics(image, 'original', diagnostics);

  let roiMask = labelMask(mask, s.label);
  maskDiagnostics(roiMask, s.label, 'original', diagnostics, mask);

  let img = image;
  if (s.normalize) img = normalizeImage(img, s);

  if (s.resampledPixelSpacing !== null) {
    const r = resampleImageAndMask(img, roiMask, s);
    img = r.image;
    roiMask = r.mask;
    imageDiagnostics(img, 'interpolated', diagnostics);
    maskDiagnostics(roiMask, s.label, 'interpolated', diagnostics);
  }

  if (s.preCrop && s.resampledPixelSpacing === null && !geometryMismatch(img, roiMask, s.geometryTolerance)) {
    const c = cropWithPad(img, roiMask, s.padDistance);
    img = c.image;
    roiMask = c.mask;
  }

  const mismatch = geometryMismatch(img, roiMask, s.geometryTolerance);
  if (mismatch) {
    if (!s.correctMask) throw new RoiError(`Image/Mask geometry mismatch (${mismatch}). Potential fix: enable correctMask or increase geometryTolerance`);
    checkRoiInsideImage(img, roiMask);
    roiMask = resampleMaskNearest(roiMask, img);
    maskDiagnostics(roiMask, s.label, 'corrected', diagnostics);
  }
  let { bbox } = checkMask(roiMask, s);

  let resegmented: BinaryMask | null = null;
  if (s.resegmentRange !== null) {
    resegmented = resegmentMask(img, roiMask, s);
    bbox = checkMask(resegmented, s).bbox;
    maskDiagnostics(resegmented, s.label, 'resegmented', diagnostics);
  }
  const shapeMask = s.resegmentShape && resegmented ? resegmented : roiMask;
  const featMask = resegmented ?? roiMask;
  return { image: img, shapeMask: shapeMask.data, featMask: featMask.data, bbox, diagnostics, seconds: (Date.now() - t0) / 1000 };
}

/** Feature computation on a prepared ROI (all enabled image types and classes, or `opts.only`). */
export function extractPrepared(prep: PreparedRoi, settings: RadiomicsSettings, opts: ExtractOptions = {}): ExtractResult {
  const s = settings.setting;
  const plan = makePlan(opts.only);
  const diagnostics: Record<string, unknown> = { ...prep.diagnostics };
  const features: Record<string, number | null> = {};
  const reasons: Record<string, string> = {};
  const t0 = Date.now();
  const img = prep.image;
  const bbox = prep.bbox;
  const featMask = { data: prep.featMask };
  const shapeMask = { data: prep.shapeMask };

  // Shape (original image only).
  const shapeClasses: FeatureClassName[] = [];
  if ('shape' in settings.featureClass) shapeClasses.push('shape');
  if ('shape2D' in settings.featureClass) {
    const axis = 2 - s.force2Ddimension;
    if (!s.force2D) log.warn('parameter force2D must be set to True to enable shape2D extraction');
    else if (bboxSize(bbox)[axis] !== 1) log.warn('shape2D needs a single-slice ROI along force2Ddimension; skipped', { force2Ddimension: s.force2Ddimension });
    else shapeClasses.push('shape2D');
  }
  const wantOriginal = planImage(plan, 'original');
  if (shapeClasses.length && wantOriginal) {
    computeClasses('original', makeInput(img, shapeMask.data, bbox, settings), shapeClasses, settings, wantOriginal, plan, features, reasons);
  }

  const classes = IMAGE_CLASSES.filter((c) => c in settings.featureClass);
  let done = 0;
  for (const type of Object.keys(settings.imageType)) {
    const gopts = generatorOptions(type, settings, plan);
    if (!gopts) continue;
    const tImg = Date.now();
    const { images, window: win } = filteredImages(imageTypeEntry(type)!, img, gopts, { mask: featMask.data, bbox }, opts.wholeImageFilters);
    for (const derived of images) {
      const want = planImage(plan, derived.name);
      if (!want) continue;
      const input = win ? makeInput(derived.image, win.mask, win.bbox, settings) : makeInput(derived.image, featMask.data, bbox, settings);
      computeClasses(derived.name, input, classes, settings, want, plan, features, reasons);
      done++;
      opts.onImage?.(derived.name, done);
    }
    diagnostics[`diagnostics_Timing_${type}_s`] = (Date.now() - tImg) / 1000;
  }
  diagnostics['diagnostics_Timing_total_s'] = (Date.now() - t0) / 1000 + prep.seconds;
  diagnostics['nullFeatures'] = reasons;
  if (!s.additionalInfo) {
    for (const k of Object.keys(diagnostics)) if (k !== 'nullFeatures') delete diagnostics[k];
  }
  return { features, diagnostics };
}
