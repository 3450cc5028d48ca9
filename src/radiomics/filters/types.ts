import type { PixelType, RImage } from '../image.js';
import type { Geometry } from '../../volume/types.js';

/** One derived image, as PyRadiomics' imageoperations generators yield `(image, name, kwargs)`. */
export interface DerivedImage {
  image: RImage;
  /** PyRadiomics image type name, e.g. `original`, `log-sigma-1-0-mm-3D`, `wavelet-LLH`. */
  name: string;
  /** Settings used for this image (the generator's options, passed through). */
  kwargs: Record<string, unknown>;
}

export type ImageGenerator<O> = (img: RImage, opts: O) => Generator<DerivedImage>;

/** Copy the geometry of `g` (new arrays, so the result can be modified independently). */
export function copyGeometry(g: Geometry): Geometry {
  return {
    dims: [g.dims[0], g.dims[1], g.dims[2]],
    spacing: [g.spacing[0], g.spacing[1], g.spacing[2]],
    origin: [g.origin[0], g.origin[1], g.origin[2]],
    direction: [...g.direction] as Geometry['direction'],
  };
}

/** Build an RImage with the geometry of `g`. */
export function withData(g: Geometry, data: Float64Array, pixelType: PixelType): RImage {
  return { ...copyGeometry(g), data, pixelType };
}

export const PIXEL_RANGE: Record<PixelType, [number, number]> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
  float32: [-3.4028234663852886e38, 3.4028234663852886e38],
  float64: [-Number.MAX_VALUE, Number.MAX_VALUE],
};

export function isIntegerType(pt: PixelType): boolean {
  return pt !== 'float32' && pt !== 'float64';
}

/**
 * C-style `static_cast<T>(double)` into pixel type `pt`, in place: integer types truncate toward zero
 * (values outside the range are clamped, where C would be undefined), float32 rounds to single precision.
 */
export function truncCastInPlace(data: Float64Array, pt: PixelType): Float64Array {
  if (pt === 'float64') return data;
  if (pt === 'float32') {
    for (let i = 0; i < data.length; i++) data[i] = Math.fround(data[i]!);
    return data;
  }
  const [lo, hi] = PIXEL_RANGE[pt];
  for (let i = 0; i < data.length; i++) {
    const v = Math.trunc(data[i]!);
    data[i] = v < lo ? lo : v > hi ? hi : v + 0;
  }
  return data;
}

/**
 * ITK noise filters' `ClampCast`: values ≥ type max → max, ≤ type min → min, otherwise `Math::Round`
 * (round half up) for integer types, single-precision rounding for float32, unchanged for float64. In place.
 */
export function clampRoundCastInPlace(data: Float64Array, pt: PixelType): Float64Array {
  if (pt === 'float64') return data;
  const [lo, hi] = PIXEL_RANGE[pt];
  const integer = isIntegerType(pt);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v >= hi) data[i] = hi;
    else if (v <= lo) data[i] = lo;
    else data[i] = integer ? Math.floor(v + 0.5) + 0 : Math.fround(v);
  }
  return data;
}
