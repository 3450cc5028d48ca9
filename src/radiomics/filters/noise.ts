/**
 * Additive Gaussian noise (ITK AdditiveGaussianNoiseImageFilter, as SimpleITK `AdditiveGaussianNoise`) with ITK's
 * `Statistics::NormalVariateGenerator` — C. S. Wallace's FastNorm — ported with 32-bit integer semantics.
 */
import type { RImage } from '../image.js';
import { clampRoundCastInPlace, type DerivedImage, withData } from './types.js';

const ELEN = 7;
const LEN = 128; // 2 ** ELEN
const LMASK = 4 * (LEN - 1);
const TLEN = 8 * LEN;
const SCALE = 30000000.0;
const RSCALE = 1.0 / SCALE;
const RCONS = 1.0 / (2.0 * 1024.0 * 1024.0 * 1024.0);

function signedShiftXor(irs: number): number {
  const u = (irs << 1) | 0; // (unsigned)irs << 1, reinterpreted as int
  return irs <= 0 ? (u ^ 333556017) | 0 : u;
}

/** Port of itk::Statistics::NormalVariateGenerator (Initialize(seed) + GetVariate()). */
export class NormalVariateGenerator {
  private lseed = 0;
  private irs = 0;
  private gaussfaze = 1;
  private nslew = 0;
  private gscale = RSCALE;
  private chic1 = 0;
  private chic2 = 0;
  private actualRSD = 0;
  private readonly vec1 = new Int32Array(TLEN);

  constructor(seed = 0) {
    this.initialize(seed);
  }

  /** `Initialize(int randomSeed)`: the seed is taken as a signed 32-bit integer. */
  initialize(seed: number): void {
    const s = seed | 0;
    this.lseed = s;
    this.irs = s;
    this.gaussfaze = 1;
    this.nslew = 0;
    this.gscale = RSCALE;
    const fake = 1.0 + 0.125 / TLEN;
    this.chic2 = Math.sqrt(2.0 * TLEN - fake * fake) / fake;
    this.chic1 = fake * Math.sqrt(0.5 / TLEN);
    this.actualRSD = 0.0;
  }

  getVariate(): number {
    if (--this.gaussfaze) return this.gscale * this.vec1[this.gaussfaze]!;
    return this.fastNorm();
  }

  /** One step of the two combined generators; returns int(irs + lseed). */
  private nextRandom(): number {
    this.lseed = (Math.imul(69069, this.lseed) + 33331) | 0;
    this.irs = signedShiftXor(this.irs);
    return (this.irs + this.lseed) | 0;
  }

  private renormalize(): void {
    const v = this.vec1;
    if ((this.nslew & 0xffff) === 0) {
      // Replace the whole pool with conventional Normal variates.
      let ts = 0.0;
      let p = 0;
      while (p < TLEN) {
        const tx = RCONS * this.nextRandom();
        const ty = RCONS * this.nextRandom();
        const tr = tx * tx + ty * ty;
        if (tr > 1.0 || tr < 0.1) continue;
        let r = this.nextRandom();
        if (r < 0) r = ~r;
        let tz = -2.0 * Math.log((r + 0.5) * RCONS);
        ts += tz;
        tz = Math.sqrt(tz / tr);
        v[p++] = Math.trunc(SCALE * tx * tz);
        v[p++] = Math.trunc(SCALE * ty * tz);
      }
      ts = TLEN / ts;
      const tr = Math.sqrt(ts);
      for (p = 0; p < TLEN; ++p) {
        const tx = v[p]! * tr;
        v[p] = Math.trunc(tx < 0.0 ? tx - 0.5 : tx + 0.5);
      }
    }
    // recalcsumsq
    let ts = 0.0;
    for (let p = 0; p < TLEN; ++p) {
      const tx = v[p]!;
      ts += tx * tx;
    }
    ts = Math.sqrt(ts / (SCALE * SCALE * TLEN));
    this.actualRSD = 1.0 / ts;
  }

  private fastNorm(): number {
    const v = this.vec1;
    if (!(this.nslew & 0xff)) this.renormalize();

    // startpass
    ++this.nslew;
    this.gaussfaze = TLEN - 1;
    let t = this.nextRandom();
    if (t < 0) t = ~t;
    t = t >> (29 - 2 * ELEN);
    let skew = (LEN - 1) & t;
    t = t >> ELEN;
    skew = 4 * skew;
    let stride = (LEN / 2 - 1) & t;
    t = t >> (ELEN - 1);
    stride = 8 * stride + 4;
    const mtype = t & 3;
    const stype = this.nslew & 3;

    let inc: number;
    let mask: number;
    let pa: number;
    let pb: number;
    let pc: number;
    let pd: number;
    let p0: number;
    switch (stype) {
      case 0:
        inc = 1;
        mask = LMASK;
        pa = 0;
        pb = pa + LEN;
        pc = pb + LEN;
        pd = pc + LEN;
        p0 = 4 * LEN;
        break;
      case 1:
        inc = 1;
        mask = LMASK;
        pa = 4 * LEN;
        pb = pa + LEN;
        pc = pb + LEN;
        pd = pc + LEN;
        p0 = 0;
        break;
      case 2:
        inc = 2;
        mask = 2 * LMASK;
        skew *= 2;
        stride *= 2;
        pa = 1;
        pb = pa + 2 * LEN;
        pc = pb + 2 * LEN;
        pd = pc + 2 * LEN;
        p0 = 0;
        break;
      default:
        inc = 2;
        mask = 2 * LMASK;
        skew *= 2;
        stride *= 2;
        pa = 0;
        pb = pa + 2 * LEN;
        pc = pb + 2 * LEN;
        pd = pc + 2 * LEN;
        p0 = 1;
        break;
    }

    let p: number;
    let q: number;
    let r: number;
    let s: number;
    let pe: number;
    switch (mtype) {
      case 0:
        pa += inc * (LEN - 1);
        for (let i = LEN; i > 0; i--) {
          skew = (skew + stride) & mask;
          pe = p0 + skew;
          p = -v[pa]!;
          q = -v[pb]!;
          r = v[pc]!;
          s = v[pd]!;
          t = ((p + q + r + s) | 0) >> 1;
          p = (t - p) | 0;
          q = (t - q) | 0;
          r = (t - r) | 0;
          s = (t - s) | 0;
          t = -v[pe]!;
          v[pe] = p;
          pe += inc;
          p = v[pe]!;
          v[pe] = q;
          pe += inc;
          q = -v[pe]!;
          v[pe] = r;
          pe += inc;
          r = v[pe]!;
          v[pe] = s;
          s = ((p + q + r + t) | 0) >> 1;
          v[pa] = s - p;
          pa -= inc;
          v[pb] = s - q;
          pb += inc;
          v[pc] = s - r;
          pc += inc;
          v[pd] = s - t;
          pd += inc;
        }
        break;
      case 1:
        pb += inc * (LEN - 1);
        for (let i = LEN; i > 0; i--) {
          skew = (skew + stride) & mask;
          pe = p0 + skew;
          p = -v[pa]!;
          q = v[pb]!;
          r = v[pc]!;
          s = -v[pd]!;
          t = ((p + q + r + s) | 0) >> 1;
          p = (t - p) | 0;
          q = (t - q) | 0;
          r = (t - r) | 0;
          s = (t - s) | 0;
          t = v[pe]!;
          v[pe] = p;
          pe += inc;
          p = -v[pe]!;
          v[pe] = q;
          pe += inc;
          q = -v[pe]!;
          v[pe] = r;
          pe += inc;
          r = v[pe]!;
          v[pe] = s;
          s = ((p + q + r + t) | 0) >> 1;
          v[pa] = s - p;
          pa += inc;
          v[pb] = s - t;
          pb -= inc;
          v[pc] = s - q;
          pc += inc;
          v[pd] = s - r;
          pd += inc;
        }
        break;
      case 2:
        pc += inc * (LEN - 1);
        for (let i = LEN; i > 0; i--) {
          skew = (skew + stride) & mask;
          pe = p0 + skew;
          p = v[pa]!;
          q = -v[pb]!;
          r = v[pc]!;
          s = -v[pd]!;
          t = ((p + q + r + s) | 0) >> 1;
          p = (t - p) | 0;
          q = (t - q) | 0;
          r = (t - r) | 0;
          s = (t - s) | 0;
          t = v[pe]!;
          v[pe] = p;
          pe += inc;
          p = v[pe]!;
          v[pe] = q;
          pe += inc;
          q = -v[pe]!;
          v[pe] = r;
          pe += inc;
          r = -v[pe]!;
          v[pe] = s;
          s = ((p + q + r + t) | 0) >> 1;
          v[pa] = s - r;
          pa += inc;
          v[pb] = s - p;
          pb += inc;
          v[pc] = s - q;
          pc -= inc;
          v[pd] = s - t;
          pd += inc;
        }
        break;
      default:
        pd += inc * (LEN - 1);
        for (let i = LEN; i > 0; i--) {
          skew = (skew + stride) & mask;
          pe = p0 + skew;
          p = v[pa]!;
          q = v[pb]!;
          r = -v[pc]!;
          s = -v[pd]!;
          t = ((p + q + r + s) | 0) >> 1;
          p = (t - p) | 0;
          q = (t - q) | 0;
          r = (t - r) | 0;
          s = (t - s) | 0;
          t = -v[pe]!;
          v[pe] = p;
          pe += inc;
          p = v[pe]!;
          v[pe] = q;
          pe += inc;
          q = v[pe]!;
          v[pe] = r;
          pe += inc;
          r = -v[pe]!;
          v[pe] = s;
          s = ((p + q + r + t) | 0) >> 1;
          v[pa] = s - q;
          pa += inc;
          v[pb] = s - r;
          pb += inc;
          v[pc] = s - t;
          pc += inc;
          v[pd] = s - p;
          pd -= inc;
        }
        break;
    }

    // endpass
    const ts = this.chic1 * (this.chic2 + this.gscale * v[TLEN - 1]!);
    this.gscale = RSCALE * ts * this.actualRSD;
    return this.gscale * v[0]!;
  }
}

export interface AdditiveGaussianNoiseOptions {
  mean?: number;
  standardDeviation?: number;
  seed?: number;
  /** Only 1 (one region = whole image) is supported: the reference uses a single work unit. */
  numberOfWorkUnits?: number;
}

/**
 * ITK's per-region seed: uint32((seed + sum of the region's start index) * 2654435761), passed as int32.
 * For the whole image (start index 0,0,0) only the seed matters.
 */
export function noiseRegionSeed(seed: number, startIndexSum = 0): number {
  const h = Math.imul((seed + startIndexSum) >>> 0, 2654435761 >>> 0) >>> 0;
  return h | 0;
}

/** Raw `in + mean + sd * variate` values in scanline order (double), before the cast to the pixel type. */
export function additiveGaussianNoiseFloat(
  data: ArrayLike<number>,
  opts: AdditiveGaussianNoiseOptions = {},
): Float64Array {
  const mean = opts.mean ?? 0;
  const sd = opts.standardDeviation ?? 1;
  const seed = opts.seed ?? 42;
  const units = opts.numberOfWorkUnits ?? 1;
  if (units !== 1) throw new RangeError('additiveGaussianNoise: only numberOfWorkUnits = 1 is supported');
  const gen = new NormalVariateGenerator(noiseRegionSeed(seed, 0));
  const n = data.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = data[i]! + mean + sd * gen.getVariate();
  return out;
}

/** Noise image, cast back to the input pixel type with clamping and round-half-up (ITK ClampCast). */
export function additiveGaussianNoise(img: RImage, opts: AdditiveGaussianNoiseOptions = {}): RImage {
  const out = additiveGaussianNoiseFloat(img.data, opts);
  return withData(img, clampRoundCastInPlace(out, img.pixelType), img.pixelType);
}

/** Generator in the style of PyRadiomics' imageoperations: yields `additivegaussiannoise`. */
export function* additiveGaussianNoiseImages(
  img: RImage,
  opts: AdditiveGaussianNoiseOptions = {},
): Generator<DerivedImage> {
  yield { image: additiveGaussianNoise(img, opts), name: 'additivegaussiannoise', kwargs: { ...opts } };
}
