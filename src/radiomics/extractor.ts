/**
 * Feature extraction as PyRadiomics `RadiomicsFeatureExtractor.execute`: load/check the mask, optional normalisation
 * and resampling, shape on the original mask, optional resegmentation, then every enabled image type (filters applied
 * to the whole image) cropped to the ROI bounding box and passed to the enabled feature classes.
 * Feature names are `<imagetype>_<class>_<Feature>`; values PyRadiomics would give as NaN are `null` with the
 * reason in `diagnostics.nullFeatures`.
 */
import { createHash } from 'node:crypto';
import { logger } from '../common/log.js';
import type { Vec3 } from '../volume/types.js';
import { indexToPoint } from '../volume/types.js';
import { discretize, type Discretized } from './binning.js';
import { FEATURE_CLASSES, IMAGE_CLASSES } from './features/index.js';
import type { FeatureInput } from './features/types.js';
import { IMAGE_TYPES, WAVELETS, type DerivedImage } from './filters/index.js';
import { logImageName } from './filters/log.js';
import type { PixelType, RImage, RMask } from './image.js';
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
import { bboxSize, cropArray, cropRoi, type BBox } from './roi.js';
import { laplacianRecursiveGaussianBox } from './log-roi.js';
import type { FeatureClassName, RadiomicsSettings } from './settings.js';

const log = logger('radiomics');
export const ENGINE_VERSION = 'osteoscreen-radiomics 1.0 (PyRadiomics 3.1 compatible)';

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

/** Image-type key prefix of the derived image names each generator yields. */
const NAME_PREFIX: Record<string, string> = {
  Original: 'original',
  LoG: 'log-sigma-',
  Wavelet: 'wavelet',
  Square: 'square',
  SquareRoot: 'squareroot',
  Logarithm: 'logarithm',
  Exponential: 'exponential',
  Gradient: 'gradient',
  BoxSigmaImage: 'boxsigmaimage',
  AdditiveGaussianNoise: 'additivegaussiannoise',
};

/** SHA-1 of the voxel array in the given pixel type (little endian), as PyRadiomics' diagnostics hashes. */
export function arrayHash(data: ArrayLike<number>, pt: PixelType): string {
  const ctor = {
    int8: Int8Array,
    uint8: Uint8Array,
    int16: Int16Array,
    uint16: Uint16Array,
    int32: Int32Array,
    uint32: Uint32Array,
    float32: Float32Array,
    float64: Float64Array,
  }[pt];
  const arr = ctor.from(data as ArrayLike<number>);
  return createHash('sha1').update(new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength)).digest('hex');
}

function fmtTuple(v: readonly number[]): string {
  return `(${v.map((x) => String(x)).join(', ')})`;
}

/** Number of 26-connected components of the ROI. */
function countComponents(m: BinaryMask): number {
  const [nx, ny, nz] = m.dims;
  const seen = new Uint8Array(m.data.length);
  const stack = new Int32Array(m.data.length);
  let comps = 0;
  for (let s = 0; s < m.data.length; s++) {
    if (!m.data[s] || seen[s]) continue;
    comps++;
    let top = 0;
    stack[top++] = s;
    seen[s] = 1;
    while (top) {
      const k = stack[--top]!;
      const x = k % nx, y = Math.floor(k / nx) % ny, z = Math.floor(k / (nx * ny));
      for (let dz = -1; dz <= 1; dz++) for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
        const xx = x + dx, yy = y + dy, zz = z + dz;
        if (xx < 0 || yy < 0 || zz < 0 || xx >= nx || yy >= ny || zz >= nz) continue;
        const j = xx + yy * nx + zz * nx * ny;
        if (m.data[j] && !seen[j]) {
          seen[j] = 1;
          stack[top++] = j;
        }
      }
    }
  }
  return comps;
}

function imageDiagnostics(img: RImage, prefix: string, d: Record<string, unknown>): void {
  let s = 0, mn = Infinity, mx = -Infinity;
  for (let i = 0; i < img.data.length; i++) {
    const v = img.data[i]!;
    s += v;
    if (v < mn) mn = v;
    if (v > mx) mx = v;
  }
  d[`diagnostics_Image-${prefix}_Hash`] = arrayHash(img.data, img.pixelType);
  d[`diagnostics_Image-${prefix}_Dimensionality`] = '3D';
  d[`diagnostics_Image-${prefix}_Spacing`] = fmtTuple(img.spacing);
  d[`diagnostics_Image-${prefix}_Size`] = fmtTuple(img.dims);
  d[`diagnostics_Image-${prefix}_Mean`] = s / img.data.length;
  d[`diagnostics_Image-${prefix}_Minimum`] = mn;
  d[`diagnostics_Image-${prefix}_Maximum`] = mx;
}

function maskDiagnostics(m: BinaryMask, label: number, prefix: string, d: Record<string, unknown>, hashSource?: RMask): void {
  if (hashSource) d[`diagnostics_Mask-${prefix}_Hash`] = arrayHash(hashSource.data, 'uint32');
  else d[`diagnostics_Mask-${prefix}_Hash`] = arrayHash(Uint32Array.from(m.data, (v) => (v ? label : 0)), 'uint32');
  d[`diagnostics_Mask-${prefix}_Spacing`] = fmtTuple(m.spacing);
  d[`diagnostics_Mask-${prefix}_Size`] = fmtTuple(m.dims);
  const [nx, ny] = m.dims;
  let n = 0, cx = 0, cy = 0, cz = 0;
  for (let i = 0; i < m.data.length; i++) {
    if (!m.data[i]) continue;
    n++;
    cx += i % nx;
    cy += Math.floor(i / nx) % ny;
    cz += Math.floor(i / (nx * ny));
  }
  const bb = checkBBox(m);
  if (bb) d[`diagnostics_Mask-${prefix}_BoundingBox`] = fmtTuple([...bb.lo, ...bboxSize(bb)]);
  d[`diagnostics_Mask-${prefix}_VoxelNum`] = n;
  d[`diagnostics_Mask-${prefix}_VolumeNum`] = countComponents(m);
  const com: Vec3 = [cx / n, cy / n, cz / n];
  d[`diagnostics_Mask-${prefix}_CenterOfMassIndex`] = fmtTuple(com);
  d[`diagnostics_Mask-${prefix}_CenterOfMass`] = fmtTuple(indexToPoint(m, com[0], com[1], com[2]));
}

function checkBBox(m: BinaryMask): BBox | null {
  try {
    return checkMask(m, { minimumROIDimensions: 1, minimumROISize: null, label: 1 } as never).bbox;
  } catch {
    return null;
  }
}

/** Crop image and mask to the ROI bounding box ± pad voxels (PyRadiomics preCrop / cropToTumorMask). */
function cropWithPad(img: RImage, m: BinaryMask, pad: number): { image: RImage; mask: BinaryMask } {
  const bb = checkBBox(m);
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

/**
 * A sub-volume around the ROI that yields exactly the same filter values inside the bounding box as the whole
 * image, for filters with finite support: the stationary wavelet (periodic convolutions, filter length F per level,
 * so F·levels voxels of margin) and the box-sigma filter
 * (radius r, clipped at the true image border). Along an axis where the ROI is closer than the margin to the
 * border the whole axis is kept. Returns null when the window would not be smaller.
 */
interface FilterWindow {
  image: RImage;
  mask: Uint8Array;
  bbox: BBox;
}

function filterWindow(type: string, img: RImage, mask: Uint8Array, bbox: BBox, opts: Record<string, unknown>): FilterWindow | null {
  let margin: number[];
  let periodic: boolean;
  if (type === 'Wavelet') {
    const bank = WAVELETS[(opts.wavelet as string | undefined) ?? 'coif1'];
    if (!bank) return null;
    const levels = (Number(opts.start_level ?? 0) || 0) + (Number(opts.level ?? 1) || 1);
    margin = [0, 1, 2].map(() => bank.decLo.length * levels + 1);
    periodic = true;
  } else if (type === 'BoxSigmaImage') {
    const r = opts.radius ?? 1;
    const rv = typeof r === 'number' ? [r, r, r] : (r as number[]);
    margin = rv.map((v) => Math.ceil(Number(v)));
    periodic = false;
  } else return null;
  // Per axis: list of source indices (or -1 = none) of the window.
  const axes: Int32Array[] = [];
  const lo: number[] = [];
  let smaller = false;
  for (let a = 0; a < 3; a++) {
    const n = img.dims[a]!;
    const np = periodic ? n + (n % 2) : n;
    let start = bbox.lo[a]! - margin[a]!;
    let end = bbox.hi[a]! + margin[a]!;
    if (!periodic) {
      start = Math.max(0, start);
      end = Math.min(n - 1, end);
    }
    // Periodic filters: near the image border the convolution wraps, and pywt sums those outputs in another
    // order; keep the whole axis there so every value is computed exactly as on the whole image.
    if (end - start + 1 >= np || (periodic && (start < 0 || end > n - 1))) {
      axes.push(Int32Array.from({ length: n }, (_, k) => k));
      lo.push(bbox.lo[a]!);
      continue;
    }
    smaller = true;
    const idx = new Int32Array(end - start + 1);
    for (let t = 0; t < idx.length; t++) idx[t] = start + t;
    axes.push(idx);
    lo.push(bbox.lo[a]! - start);
  }
  if (!smaller) return null;
  const [ax, ay, az] = axes as [Int32Array, Int32Array, Int32Array];
  const [nx, ny] = img.dims;
  const dims: Vec3 = [ax.length, ay.length, az.length];
  const data = new Float64Array(dims[0] * dims[1] * dims[2]);
  const m = new Uint8Array(data.length);
  let k = 0;
  for (let z = 0; z < dims[2]; z++) for (let y = 0; y < dims[1]; y++) {
    const row = ay[y]! * nx + az[z]! * nx * ny;
    for (let x = 0; x < dims[0]; x++, k++) {
      data[k] = img.data[row + ax[x]!]!;
      m[k] = mask[row + ax[x]!]!;
    }
  }
  const size = bboxSize(bbox);
  const wbox: BBox = {
    lo: [lo[0]!, lo[1]!, lo[2]!],
    hi: [lo[0]! + size[0] - 1, lo[1]! + size[1] - 1, lo[2]! + size[2] - 1],
  };
  return { image: { ...img, dims, data }, mask: m, bbox: wbox };
}

/** PyRadiomics getLoGImage (same checks and names), each image holding only the ROI box (box-sized volume). */
function* logBoxImages(img: RImage, opts: Record<string, unknown>, bbox: BBox): Generator<DerivedImage> {
  const size = img.dims;
  if (Math.min(...size) < 4) {
    log.warn('Image too small to apply LoG filter', { size });
    return;
  }
  const box = bboxSize(bbox) as Vec3;
  for (const sigma of (opts.sigma as number[] | undefined) ?? []) {
    if (!(sigma > 0)) {
      log.warn('applyLoG: sigma must be greater than 0.0', { sigma });
      continue;
    }
    if (![0, 1, 2].every((d) => size[d]! >= Math.ceil(sigma / img.spacing[d]!) + 1)) {
      log.warn('applyLoG: sigma/spacing + 1 must be greater than the size of the inputImage', { sigma });
      continue;
    }
    const data = laplacianRecursiveGaussianBox(img.data, img.dims, img.spacing, sigma, bbox, true);
    yield { image: { ...img, dims: box, data, pixelType: 'float32' }, name: logImageName(sigma), kwargs: { ...opts } };
  }
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

/** Options passed to a filter generator: settings merged with the image type's own options (as PyRadiomics). */
function generatorOptions(type: string, settings: RadiomicsSettings, plan: Plan): Record<string, unknown> | null {
  const opts: Record<string, unknown> = { ...settings.setting, ...settings.imageType[type] };
  if (plan.wantAll) return opts;
  const prefix = NAME_PREFIX[type] ?? type.toLowerCase();
  const wanted = [...plan.byPrefix.keys()].filter((k) => (type === 'Square' ? k === 'square' : k.startsWith(prefix)));
  if (!wanted.length) return null;
  if (type === 'LoG') {
    const sig = ((opts.sigma as number[] | undefined) ?? []).filter((s) => wanted.includes(logImageName(s).toLowerCase()));
    if (!sig.length) return null;
    opts.sigma = sig;
  }
  return opts;
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
    const gen = IMAGE_TYPES[type];
    if (!gen) throw new RoiError(`image type ${type} is not available`);
    const gopts = generatorOptions(type, settings, plan);
    if (!gopts) continue;
    const tImg = Date.now();
    let win = opts.wholeImageFilters ? null : filterWindow(type, img, featMask.data, bbox, gopts);
    let images: Iterable<DerivedImage>;
    if (type === 'LoG' && !opts.wholeImageFilters) {
      // LoG values are only computed inside the ROI box (exactly; see log-roi.ts).
      const size = bboxSize(bbox);
      win = {
        image: img,
        mask: cropArray(featMask.data, img.dims, bbox, (n) => new Uint8Array(n)),
        bbox: { lo: [0, 0, 0], hi: [size[0] - 1, size[1] - 1, size[2] - 1] },
      };
      images = logBoxImages(img, gopts, bbox);
    } else images = gen(win ? win.image : img, gopts) as Generator<DerivedImage>;
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
