/** Unit tests of the radiomics filters on small synthetic arrays (formulas, borders, names, skip rules). */
import { describe, expect, it } from 'vitest';
import {
  additiveGaussianNoise,
  boxSigma,
  boxSigmaFloat,
  clampRoundCastInPlace,
  cropToMask,
  exponentialData,
  gradientMagnitudeData,
  IMAGE_TYPES,
  laplacianRecursiveGaussian,
  logarithmData,
  logImageName,
  logImages,
  maskBoundingBox,
  NormalVariateGenerator,
  noiseRegionSeed,
  periodizationPlan,
  squareData,
  squareRootData,
  truncCastInPlace,
  WAVELETS,
  waveletImages,
} from '../../src/radiomics/filters/index.js';
import type { PixelType, RImage, RMask } from '../../src/radiomics/image.js';
import type { Vec3 } from '../../src/volume/types.js';

function image(dims: Vec3, fill: (x: number, y: number, z: number) => number, spacing: Vec3 = [1, 1, 1], pixelType: PixelType = 'float64'): RImage {
  const data = new Float64Array(dims[0] * dims[1] * dims[2]);
  let i = 0;
  for (let z = 0; z < dims[2]; z++) for (let y = 0; y < dims[1]; y++) for (let x = 0; x < dims[0]; x++) data[i++] = fill(x, y, z);
  return { dims, spacing, origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], data, pixelType };
}
const at = (img: RImage, x: number, y: number, z: number) => img.data[x + img.dims[0] * (y + img.dims[1] * z)]!;

describe('pointwise filters (PyRadiomics definitions)', () => {
  const x = [-4, 0, 1, 16];
  it('square: (x/sqrt(max|x|))^2', () => {
    expect(Array.from(squareData(x))).toEqual([1, 0, 1 / 16, 16].map((v) => expect.closeTo(v, 14)));
  });
  it('squareroot: sign(x)·sqrt(|x|·max|x|)', () => {
    expect(Array.from(squareRootData(x))).toEqual([-8, 0, 4, 16].map((v) => expect.closeTo(v, 12)));
  });
  it('logarithm: sign(x)·log(|x|+1) rescaled to max|x|', () => {
    const c = 16 / Math.log(17);
    expect(Array.from(logarithmData(x))).toEqual([-c * Math.log(5), 0, c * Math.log(2), 16].map((v) => expect.closeTo(v, 12)));
  });
  it('exponential: exp(x·log(max|x|)/max|x|)', () => {
    const c = Math.log(16) / 16;
    expect(Array.from(exponentialData(x))).toEqual(x.map((v) => expect.closeTo(Math.exp(c * v), 12)));
  });
});

describe('gradient magnitude (ITK GradientMagnitudeImageFilter)', () => {
  it('linear ramp: slope/spacing inside, half of it at zero-flux borders; float32 output', () => {
    const img = image([6, 4, 4], (x) => 3 * x, [0.5, 1, 2]);
    const g = gradientMagnitudeData(img.data, img.dims, img.spacing);
    const gi = { ...img, data: g };
    expect(at(gi, 2, 1, 1)).toBeCloseTo(6, 5); // (3 per voxel) / 0.5 mm
    expect(at(gi, 0, 1, 1)).toBeCloseTo(3, 5); // one-sided at the border: (x1 - x0)/2/0.5
    expect(at(gi, 5, 2, 3)).toBeCloseTo(3, 5);
    for (const v of g) expect(v).toBe(Math.fround(v));
    const noSpacing = gradientMagnitudeData(img.data, img.dims, img.spacing, false);
    expect(noSpacing[2 + 6 + 24]).toBeCloseTo(3, 6);
  });
});

describe('casts', () => {
  it('truncCast truncates toward zero and clamps', () => {
    expect(Array.from(truncCastInPlace(Float64Array.from([2.9, -2.9, 40000, -40000, 7]), 'int16'))).toEqual([2, -2, 32767, -32768, 7]);
    expect(Array.from(truncCastInPlace(Float64Array.from([-1.5, 300]), 'uint8'))).toEqual([0, 255]);
  });
  it('clampRoundCast rounds halves up (ITK Math::Round) and clamps at the type limits', () => {
    expect(Array.from(clampRoundCastInPlace(Float64Array.from([2.5, -2.5, -2.51, 32767.2, -32768.7, 0.49]), 'int16'))).toEqual([
      3, -2, -3, 32767, -32768, 0,
    ]);
  });
});

describe('box sigma', () => {
  it('matches a direct two-pass SD with the clipped box; constant image → 0; truncation to int16', () => {
    const img = image([4, 3, 5], (x, y, z) => ((x * 7 + y * 13 + z * 29) % 11) - 3, [1, 1, 1], 'int16');
    const f = boxSigmaFloat(img.data, img.dims);
    for (const [x, y, z] of [
      [0, 0, 0],
      [1, 1, 2],
      [3, 2, 4],
      [2, 0, 1],
    ] as const) {
      const vals: number[] = [];
      for (let dz = -1; dz <= 1; dz++)
        for (let dy = -1; dy <= 1; dy++)
          for (let dx = -1; dx <= 1; dx++) {
            const xx = x + dx;
            const yy = y + dy;
            const zz = z + dz;
            if (xx < 0 || yy < 0 || zz < 0 || xx >= 4 || yy >= 3 || zz >= 5) continue;
            vals.push(at(img, xx, yy, zz));
          }
      const m = vals.reduce((a, b) => a + b, 0) / vals.length;
      const sd = Math.sqrt(vals.reduce((a, b) => a + (b - m) ** 2, 0) / (vals.length - 1));
      if (x === 0 && y === 0 && z === 0) expect(vals).toHaveLength(8);
      expect(f[x + 4 * (y + 3 * z)]).toBeCloseTo(sd, 10);
    }
    const out = boxSigma(img);
    expect(out.pixelType).toBe('int16');
    for (let i = 0; i < f.length; i++) expect(out.data[i]).toBe(Math.trunc(f[i]!));
    const flat = boxSigmaFloat(new Float64Array(27).fill(5), [3, 3, 3]);
    expect(Array.from(flat)).toEqual(new Array(27).fill(0));
  });
});

describe('additive Gaussian noise (ITK NormalVariateGenerator / FastNorm)', () => {
  it('seed hashing: uint32((seed + index sum) * 2654435761) as int32', () => {
    expect(noiseRegionSeed(42)).toBe(-182847734);
    expect(noiseRegionSeed(42) >>> 0).toBe(4112119562);
    expect(noiseRegionSeed(0)).toBe(0);
  });
  it('variates are deterministic and standard normal', () => {
    const a = new NormalVariateGenerator(12345);
    const b = new NormalVariateGenerator(12345);
    const n = 200_000;
    let s = 0;
    let s2 = 0;
    let tail = 0;
    let mismatches = 0;
    for (let i = 0; i < n; i++) {
      const v = a.getVariate();
      if (v !== b.getVariate()) mismatches++;
      s += v;
      s2 += v * v;
      if (Math.abs(v) > 1.96) tail++;
    }
    expect(mismatches).toBe(0);
    const mean = s / n;
    const sd = Math.sqrt(s2 / n - mean * mean);
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(Math.abs(sd - 1)).toBeLessThan(0.01);
    expect(Math.abs(tail / n - 0.05)).toBeLessThan(0.003);
    const c = new NormalVariateGenerator(12346);
    expect(c.getVariate()).not.toBe(new NormalVariateGenerator(12345).getVariate());
  });
  it('adds mean + sd·variate and casts back to the input type', () => {
    const img = image([8, 8, 2], () => 100, [1, 1, 1], 'int16');
    const out = additiveGaussianNoise(img, { mean: 10, standardDeviation: 3, seed: 7 });
    expect(out.pixelType).toBe('int16');
    let s = 0;
    for (const v of out.data) {
      expect(Number.isInteger(v)).toBe(true);
      s += v;
    }
    expect(s / out.data.length).toBeGreaterThan(108);
    expect(s / out.data.length).toBeLessThan(112);
    expect(() => additiveGaussianNoise(img, { numberOfWorkUnits: 2 })).toThrow(/numberOfWorkUnits/);
  });
});

describe('LoG (ITK LaplacianRecursiveGaussianImageFilter)', () => {
  it('constant image → ~0; quadratic x² → 2σ² inside (NormalizeAcrossScale), float32 output', () => {
    const flat = laplacianRecursiveGaussian(new Float64Array(16 * 16 * 16).fill(50), [16, 16, 16], [1, 1, 1], 2);
    for (const v of flat) expect(Math.abs(v)).toBeLessThan(1e-3);
    const sp: Vec3 = [0.5, 0.8, 1.25];
    const img = image([80, 12, 10], (x) => (x * sp[0] - 20) ** 2, sp);
    const sigma = 1.5;
    const out = laplacianRecursiveGaussian(img.data, img.dims, img.spacing, sigma);
    const v = out[40 + 80 * (6 + 12 * 5)]!;
    expect(v).toBe(Math.fround(v));
    expect(v / (2 * sigma * sigma)).toBeCloseTo(1, 2);
  });
  it('generator: PyRadiomics names, size checks and skipped sigmas', () => {
    expect(logImageName(1)).toBe('log-sigma-1-0-mm-3D');
    expect(logImageName(1.5)).toBe('log-sigma-1-5-mm-3D');
    const img = image([10, 10, 6], (x, y, z) => x + y + z, [1, 1, 2]);
    // sigma 12 needs ceil(12/2)+1 = 7 slices > 6 → skipped; -1 → skipped
    const names = [...logImages(img, { sigma: [1, 12, -1, 2.5] })].map((d) => d.name);
    expect(names).toEqual(['log-sigma-1-0-mm-3D', 'log-sigma-2-5-mm-3D']);
    expect([...logImages(image([10, 10, 3], () => 0), { sigma: [1] })]).toHaveLength(0);
    expect([...logImages(img, {})]).toHaveLength(0);
  });
});

describe('wavelet (pywt swtn, periodic)', () => {
  it('coif1 filter bank as pywt builds it', () => {
    const { decLo, decHi } = WAVELETS.coif1!;
    expect(decLo).toHaveLength(6);
    expect(decLo.reduce((a, b) => a + b, 0)).toBeCloseTo(Math.SQRT2, 12);
    expect(decHi.reduce((a, b) => a + b, 0)).toBeCloseTo(0, 12);
    expect(decLo[0]).toBe(-0.015655728135791993);
    expect(decHi[2]).toBe(-0.8525720202116004);
  });
  it('periodization plan: each output uses every tap once on (o + F/2 - j) mod N, also when N < F', () => {
    for (const [N, F] of [
      [2, 6],
      [3, 6],
      [8, 6],
      [5, 2],
    ] as const) {
      const { fi, xi } = periodizationPlan(N, F);
      for (let o = 0; o < N; o++) {
        const pairs = new Map<number, number>();
        for (let k = 0; k < F; k++) pairs.set(fi[o * F + k]!, xi[o * F + k]!);
        expect(pairs.size).toBe(F);
        for (let j = 0; j < F; j++) expect(pairs.get(j)).toBe((((o + (F >> 1) - j) % N) + N) % N);
      }
    }
  });
  it('8 bands, energy ×8 for even sizes, LLL of a constant = 2√2·c, odd sizes cropped back', () => {
    const img = image([8, 6, 4], (x, y, z) => Math.sin(x) * 10 + y * y - z * 3);
    const bands = [...waveletImages(img, {})];
    expect(bands.map((b) => b.name).sort()).toEqual(['HHH', 'HHL', 'HLH', 'HLL', 'LHH', 'LHL', 'LLH', 'LLL'].map((b) => `wavelet-${b}`));
    const e = (d: ArrayLike<number>) => Array.from(d).reduce((a, b) => a + b * b, 0);
    const total = bands.reduce((a, b) => a + e(b.image.data), 0);
    expect(total / e(img.data)).toBeCloseTo(8, 10);
    const odd = image([5, 7, 3], () => 4);
    const oddBands = [...waveletImages(odd, { wavelet: 'coif1' })];
    for (const b of oddBands) {
      expect(b.image.dims).toEqual([5, 7, 3]);
      expect(b.image.pixelType).toBe('float64');
      const expected = b.name === 'wavelet-LLL' ? 4 * 2 * Math.SQRT2 : 0;
      for (const v of b.image.data) expect(v).toBeCloseTo(expected, 10);
    }
    // haar along x only: LLL of an x-alternating signal is 0 and HLL carries it
    const alt = image([4, 4, 4], (x) => (x % 2 ? 1 : -1));
    const haar = new Map([...waveletImages(alt, { wavelet: 'haar' })].map((b) => [b.name, b.image.data]));
    for (const v of haar.get('wavelet-LLL')!) expect(v).toBeCloseTo(0, 12);
    for (const v of haar.get('wavelet-HLL')!) expect(Math.abs(v)).toBeCloseTo(2 * Math.SQRT2, 12);
    expect(() => [...waveletImages(alt, { wavelet: 'sym99' })]).toThrow(/not supported/);
  });
  it('level 2 names', () => {
    const img = image([8, 8, 8], (x, y, z) => x * y - z);
    const names = [...waveletImages(img, { level: 2 })].map((b) => b.name);
    expect(names).toHaveLength(15);
    expect(names.filter((n) => n.startsWith('wavelet2-'))).toHaveLength(8);
    expect(names[names.length - 1]).toBe('wavelet2-LLL');
  });
});

describe('cropToMask and registry', () => {
  it('crops to bbox ± pad (clipped) and keeps physical positions', () => {
    const img = image([10, 8, 6], (x, y, z) => x + 10 * y + 100 * z, [0.5, 0.5, 2]);
    const mdata = new Uint8Array(10 * 8 * 6);
    mdata[3 + 10 * (2 + 8 * 1)] = 1;
    mdata[5 + 10 * (4 + 8 * 2)] = 1;
    const mask: RMask = { dims: img.dims, spacing: img.spacing, origin: img.origin, direction: img.direction, data: mdata };
    expect(maskBoundingBox(mask)).toEqual({ lo: [3, 2, 1], hi: [5, 4, 2] });
    const c = cropToMask(img, mask, 2);
    expect(c.image.dims).toEqual([7, 7, 5]);
    expect(c.box.lo).toEqual([1, 0, 0]);
    expect(c.image.origin).toEqual([0.5, 0, 0]);
    expect(c.image.data[0]).toBe(1);
    expect(c.mask.data).toBeInstanceOf(Uint8Array);
    expect(c.mask.data[2 + 7 * (2 + 7 * 1)]).toBe(1);
    expect(() => cropToMask(img, mask, 0, 2)).toThrow(/not present/);
  });
  it('registry covers the PyRadiomics image types plus the two reference additions', () => {
    expect(Object.keys(IMAGE_TYPES).sort()).toEqual(
      ['AdditiveGaussianNoise', 'BoxSigmaImage', 'Exponential', 'Gradient', 'LoG', 'Logarithm', 'Original', 'Square', 'SquareRoot', 'Wavelet'].sort(),
    );
    const img = image([6, 6, 6], (x) => x + 1);
    const names = Object.entries(IMAGE_TYPES).flatMap(([k, gen]) => [...gen(img, k === 'LoG' ? { sigma: [1] } : {})].map((d) => d.name));
    expect(names).toContain('original');
    expect(names).toContain('square');
    expect(names).toContain('squareroot');
    expect(names).toContain('logarithm');
    expect(names).toContain('exponential');
    expect(names).toContain('gradient');
    expect(names).toContain('boxsigmaimage');
    expect(names).toContain('additivegaussiannoise');
  });
});
