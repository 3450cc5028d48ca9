/**
 * PyRadiomics' intensity-mapping filters (imageoperations.py getSquareImage, getSquareRootImage,
 * getLogarithmImage, getExponentialImage). All computed in double, output float64.
 */
import type { RImage } from '../image.js';
import { type DerivedImage, withData } from './types.js';

function maxAbs(d: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < d.length; i++) {
    const a = Math.abs(d[i]!);
    if (a > m || Number.isNaN(a)) m = a;
  }
  return m;
}

/** f(x) = (c·x)², c = 1/sqrt(max|x|). */
export function squareData(d: ArrayLike<number>): Float64Array {
  const coeff = 1 / Math.sqrt(maxAbs(d));
  const out = new Float64Array(d.length);
  for (let i = 0; i < d.length; i++) {
    const v = coeff * d[i]!;
    out[i] = v * v;
  }
  return out;
}

/** f(x) = sqrt(c·x) for x > 0, −sqrt(−c·x) for x < 0 (0 stays 0), c = max|x|. */
export function squareRootData(d: ArrayLike<number>): Float64Array {
  const coeff = maxAbs(d);
  const out = Float64Array.from(d);
  for (let i = 0; i < out.length; i++) {
    const v = out[i]!;
    if (v > 0) out[i] = Math.sqrt(v * coeff);
    else if (v < 0) out[i] = -Math.sqrt(-v * coeff);
  }
  return out;
}

/** f(x) = c·log(x+1) for x > 0, −c·log(−x+1) for x < 0, rescaled so that max|f| = max|x|. */
export function logarithmData(d: ArrayLike<number>): Float64Array {
  const imMax = maxAbs(d);
  const out = Float64Array.from(d);
  for (let i = 0; i < out.length; i++) {
    const v = out[i]!;
    if (v > 0) out[i] = Math.log(v + 1);
    else if (v < 0) out[i] = -Math.log(-(v - 1));
  }
  const scale = imMax / maxAbs(out);
  for (let i = 0; i < out.length; i++) out[i] = out[i]! * scale;
  return out;
}

/** f(x) = exp(c·x), c = log(max|x|)/max|x|. */
export function exponentialData(d: ArrayLike<number>): Float64Array {
  const imMax = maxAbs(d);
  const coeff = Math.log(imMax) / imMax;
  const out = new Float64Array(d.length);
  for (let i = 0; i < d.length; i++) out[i] = Math.exp(coeff * d[i]!);
  return out;
}

export function* squareImages(img: RImage, opts: Record<string, unknown> = {}): Generator<DerivedImage> {
  yield { image: withData(img, squareData(img.data), 'float64'), name: 'square', kwargs: { ...opts } };
}
export function* squareRootImages(img: RImage, opts: Record<string, unknown> = {}): Generator<DerivedImage> {
  yield { image: withData(img, squareRootData(img.data), 'float64'), name: 'squareroot', kwargs: { ...opts } };
}
export function* logarithmImages(img: RImage, opts: Record<string, unknown> = {}): Generator<DerivedImage> {
  yield { image: withData(img, logarithmData(img.data), 'float64'), name: 'logarithm', kwargs: { ...opts } };
}
export function* exponentialImages(img: RImage, opts: Record<string, unknown> = {}): Generator<DerivedImage> {
  yield { image: withData(img, exponentialData(img.data), 'float64'), name: 'exponential', kwargs: { ...opts } };
}
