/**
 * The image-type registry: everything the engine knows about one PyRadiomics image type (`imageType:` key of a
 * parameter file) in one entry: its whole-image generator, the names of the derived images it yields for given
 * options, the option schema a model file is checked with, and how to compute it for an ROI only (the margin of
 * a windowed filter, or LoG's exact box computation). The extractor, the parallel job split and the model-file
 * schema all read this table; to add an image type, add its generator module and one entry here.
 */
import { z } from 'zod';
import type { RImage } from '../image.js';
import { laplacianRecursiveGaussianBox } from '../log-roi.js';
import { bboxSize, cropArray, type BBox } from '../roi.js';
import { boxSigmaImages } from './boxsigma.js';
import { gradientImages } from './gradient.js';
import { logImageName, logImages, logImagesWith } from './log.js';
import { additiveGaussianNoiseImages } from './noise.js';
import { exponentialImages, logarithmImages, squareImages, squareRootImages } from './pointwise.js';
import { type DerivedImage, withData } from './types.js';
import { WAVELETS, waveletImages } from './wavelet.js';
import { filterWindow, type FilterSupport, type FilterWindow } from './window.js';

type Options = Record<string, unknown>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyGenerator = (img: RImage, opts: any) => Generator<DerivedImage>;

/** ROI mask and its bounding box on the image grid (as PyRadiomics passes the mask to the generators). */
export interface RoiBox {
  mask: Uint8Array;
  bbox: BBox;
}

/** Derived images and the grid they are on: `window` (mask and box on it) or the input image grid when null. */
export interface FilteredImages {
  images: Iterable<DerivedImage>;
  window: FilterWindow | null;
}

export interface ImageTypeEntry {
  /** PyRadiomics parameter-file key, e.g. `LoG`. */
  key: string;
  /** Lower-case prefix of the derived image names (`log-sigma-`, `wavelet`). */
  prefix: string;
  /** Whole-image generator, as PyRadiomics' imageoperations `get<Type>Image`. */
  generator: AnyGenerator;
  /** Names of the derived images for these options (settings merged with the image type's own options). */
  names(opts: Options): string[];
  /** The options restricted to the derived images `wanted` asks for (lower-case names), or null for none. */
  select?(opts: Options, wanted: (name: string) => boolean): Options | null;
  /** Finite filter support: the window around the ROI that gives the same values as the whole image. */
  support?(opts: Options): FilterSupport | null;
  /** Exact ROI-only computation (replaces the windowed whole-image generator). */
  roiImages?(img: RImage, opts: Options, roi: RoiBox): FilteredImages;
}

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const positive = finite.refine((v) => v > 0, 'must be > 0');
const int = z.number().int();
const none = z.object({}).strict();

/**
 * Options of each image type as a model file records them (strict: a misspelt key is an error). Parameter files
 * may carry further per-image-type settings, as PyRadiomics allows.
 */
export const IMAGE_TYPE_OPTIONS = {
  Original: none,
  LoG: z.object({ sigma: z.array(positive).min(1).describe('sigma values in mm') }).strict(),
  Wavelet: z
    .object({
      wavelet: z.string().refine((w) => w in WAVELETS, { message: `wavelet must be one of: ${Object.keys(WAVELETS).join(', ')}` }).optional(),
      start_level: int.min(0).optional(),
      level: int.min(1).optional(),
    })
    .strict(),
  Square: none,
  SquareRoot: none,
  Logarithm: none,
  Exponential: none,
  Gradient: z.object({ gradientUseSpacing: z.boolean().optional() }).strict(),
  BoxSigmaImage: z.object({ radius: z.union([int.min(1), z.tuple([int.min(1), int.min(1), int.min(1)])]) }).strict(),
  AdditiveGaussianNoise: z
    .object({
      mean: finite.optional(),
      standardDeviation: positive.optional(),
      seed: int.optional(),
      numberOfWorkUnits: int.refine((n) => n === 1, 'only 1 work unit (one region = the whole image) is supported').optional(),
    })
    .strict(),
} as const;
export type ImageTypeName = keyof typeof IMAGE_TYPE_OPTIONS;

function single(key: string, name: string, generator: AnyGenerator, extra: Partial<ImageTypeEntry> = {}): ImageTypeEntry {
  return { key, prefix: name, generator, names: () => [name], ...extra };
}

/** PyRadiomics' wavelet image names: details of each level, then the approximation of the last level. */
function waveletNames(opts: Options): string[] {
  const level = Number(opts.level ?? 1) || 1;
  const out: string[] = [];
  for (let idx = 1; idx <= level; idx++) {
    for (const band of ['LLH', 'LHL', 'LHH', 'HLL', 'HLH', 'HHL', 'HHH']) out.push(idx === 1 ? `wavelet-${band}` : `wavelet${idx}-${band}`);
  }
  out.push(level === 1 ? 'wavelet-LLL' : `wavelet${level}-LLL`);
  return out;
}

const sigmas = (opts: Options) => (opts.sigma as number[] | undefined) ?? [];

const ENTRIES: ImageTypeEntry[] = [
  single('Original', 'original', function* (img: RImage, opts: Options = {}) {
    yield { image: img, name: 'original', kwargs: { ...opts } };
  }),
  {
    key: 'LoG',
    prefix: 'log-sigma-',
    generator: logImages,
    names: (opts) => sigmas(opts).map(logImageName),
    select(opts, wanted) {
      const sigma = sigmas(opts).filter((s) => wanted(logImageName(s).toLowerCase()));
      return sigma.length ? { ...opts, sigma } : null;
    },
    // LoG values are only computed inside the ROI box (exactly the whole-image values; see log-roi.ts).
    roiImages(img, opts, roi) {
      const size = bboxSize(roi.bbox);
      const images = logImagesWith(img, opts, (sigma) => ({
        ...withData(img, laplacianRecursiveGaussianBox(img.data, img.dims, img.spacing, sigma, roi.bbox, true), 'float32'),
        dims: size,
      }));
      const window = {
        image: img,
        mask: cropArray(roi.mask, img.dims, roi.bbox, (n) => new Uint8Array(n)),
        bbox: { lo: [0, 0, 0], hi: [size[0] - 1, size[1] - 1, size[2] - 1] } as BBox,
      };
      return { images, window };
    },
  },
  {
    key: 'Wavelet',
    prefix: 'wavelet',
    generator: waveletImages,
    names: waveletNames,
    support(opts) {
      const bank = WAVELETS[(opts.wavelet as string | undefined) ?? 'coif1'];
      if (!bank) return null;
      const levels = (Number(opts.start_level ?? 0) || 0) + (Number(opts.level ?? 1) || 1);
      const m = bank.decLo.length * levels + 1;
      return { margin: [m, m, m], periodic: true };
    },
  },
  single('Square', 'square', squareImages),
  single('SquareRoot', 'squareroot', squareRootImages),
  single('Logarithm', 'logarithm', logarithmImages),
  single('Exponential', 'exponential', exponentialImages),
  single('Gradient', 'gradient', gradientImages),
  single('BoxSigmaImage', 'boxsigmaimage', boxSigmaImages, {
    support(opts) {
      const r = opts.radius ?? 1;
      const rv = typeof r === 'number' ? [r, r, r] : (r as number[]);
      return { margin: rv.map((v) => Math.ceil(Number(v))) as [number, number, number], periodic: false };
    },
  }),
  single('AdditiveGaussianNoise', 'additivegaussiannoise', additiveGaussianNoiseImages),
];

/** Image types by parameter-file key, in PyRadiomics' order. */
export const IMAGE_TYPE_REGISTRY: Readonly<Record<string, ImageTypeEntry>> = Object.fromEntries(ENTRIES.map((e) => [e.key, e]));
export const KNOWN_IMAGE_TYPES: readonly string[] = ENTRIES.map((e) => e.key);

/** Whole-image generators by key (verification and tests). */
export const IMAGE_TYPES: Readonly<Record<string, AnyGenerator>> = Object.fromEntries(ENTRIES.map((e) => [e.key, e.generator]));

/** The registry entry of `key` (exact parameter-file spelling); undefined when unknown. */
export function imageTypeEntry(key: string): ImageTypeEntry | undefined {
  return IMAGE_TYPE_REGISTRY[key];
}

/**
 * Options for running `entry` when only the derived images in `wanted` (lower-case names) are needed; null when
 * the image type yields none of them. `wanted` undefined = everything.
 */
export function selectOptions(entry: ImageTypeEntry, opts: Options, wanted?: (name: string) => boolean): Options | null {
  if (!wanted) return opts;
  if (entry.select) return entry.select(opts, wanted);
  return entry.names(opts).some((n) => wanted(n.toLowerCase())) ? opts : null;
}

/**
 * The derived images of `entry` for an ROI: computed on a window around the ROI where the filter's support allows
 * (same values inside the ROI box as the whole image), only inside the box for LoG, or on the whole image
 * (`whole`: verification, or a filter with unbounded support).
 */
export function filteredImages(entry: ImageTypeEntry, img: RImage, opts: Options, roi: RoiBox, whole = false): FilteredImages {
  if (!whole && entry.roiImages) return entry.roiImages(img, opts, roi);
  const support = whole ? null : entry.support?.(opts);
  const window = support ? filterWindow(img, roi.mask, roi.bbox, support) : null;
  return { images: entry.generator(window ? window.image : img, opts), window };
}
