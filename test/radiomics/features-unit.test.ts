/**
 * Feature classes on tiny hand-computable volumes, a brute-force GLCM cross-check on a 4×4×4 phantom,
 * binning rules, and the doc-string requirement.
 */
import { describe, expect, it } from 'vitest';
import { binEdges, discretize } from '../../src/radiomics/binning.js';
import { FEATURE_CLASSES } from '../../src/radiomics/features/index.js';
import type { FeatureInput } from '../../src/radiomics/features/types.js';
import { settingSchema, type FeatureClassName } from '../../src/radiomics/settings.js';
import type { Vec3 } from '../../src/volume/types.js';

function input(values: number[], dims: [number, number, number], opts: { mask?: number[]; spacing?: Vec3; setting?: Record<string, unknown> } = {}): FeatureInput {
  const v = Float64Array.from(values);
  const m = Uint8Array.from(opts.mask ?? values.map(() => 1));
  const setting = settingSchema.parse({ binWidth: 1, ...opts.setting });
  let count = 0;
  for (const x of m) if (x) count++;
  const roi = { dims, spacing: opts.spacing ?? ([1, 1, 1] as Vec3), values: v, mask: m, count };
  let d: ReturnType<typeof discretize> | undefined;
  return { roi, setting, discretized: () => (d ??= discretize(v, m, setting)) };
}

function compute(cls: FeatureClassName, inp: FeatureInput): Record<string, number> {
  const def = FEATURE_CLASSES[cls];
  const ctx = def.prepare(inp);
  return Object.fromEntries(Object.entries(def.features).map(([k, f]) => [k, f.compute(ctx)]));
}

describe('binning (PyRadiomics getBinEdges + digitize)', () => {
  it('fixed bin width: edges equally spaced from 0, min in bin 1', () => {
    expect(Array.from(binEdges([54, 100, 166], { binWidth: 25, binCount: null }))).toEqual([50, 75, 100, 125, 150, 175, 200]);
    const d = discretize(Float64Array.of(54, 74.9, 75, 166), Uint8Array.of(1, 1, 1, 1), { binWidth: 25, binCount: null });
    expect(Array.from(d.bins)).toEqual([1, 1, 2, 5]);
    expect(d.ng).toBe(5);
    expect(Array.from(d.levels)).toEqual([1, 2, 5]);
  });
  it('negative values use floored modulo', () => {
    const d = discretize(Float64Array.of(-30, -26, -25, 0), Uint8Array.of(1, 1, 1, 1), { binWidth: 25, binCount: null });
    // lo = -30 - (-30 mod 25) = -50 → bins [-50,-25) [-25,0) [0,25)
    expect(Array.from(d.bins)).toEqual([1, 1, 2, 3]);
  });
  it('fixed bin count: max falls in the top bin', () => {
    const d = discretize(Float64Array.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10), new Uint8Array(11).fill(1), { binWidth: 25, binCount: 5 });
    expect(Array.from(d.bins)).toEqual([1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 5]);
  });
  it('voxels outside the mask stay 0', () => {
    const d = discretize(Float64Array.of(5, 1000, 7), Uint8Array.of(1, 0, 1), { binWidth: 1, binCount: null });
    expect(Array.from(d.bins)).toEqual([1, 0, 3]);
  });
});

describe('firstorder', () => {
  it('hand values on [1, 2, 3, 4]', () => {
    const f = compute('firstorder', input([1, 2, 3, 4], [4, 1, 1], { spacing: [1, 2, 3] }));
    expect(f.Mean).toBe(2.5);
    expect(f.Variance).toBeCloseTo(1.25, 14);
    expect(f.Median).toBe(2.5);
    expect(f['10Percentile']).toBeCloseTo(1.3, 14);
    expect(f['90Percentile']).toBeCloseTo(3.7, 14);
    expect(f.InterquartileRange).toBeCloseTo(1.5, 14);
    expect(f.Energy).toBe(30);
    expect(f.TotalEnergy).toBe(180);
    expect(f.RootMeanSquared).toBeCloseTo(Math.sqrt(7.5), 14);
    expect(f.Range).toBe(3);
    expect(f.MeanAbsoluteDeviation).toBe(1);
    expect(f.Skewness).toBeCloseTo(0, 14);
    expect(f.Kurtosis).toBeCloseTo(1.64, 12); // μ4/μ2² = 2.5625/1.5625
    expect(f.Entropy).toBeCloseTo(2, 12);
    expect(f.Uniformity).toBeCloseTo(0.25, 14);
    // robust MAD: values within [P10, P90] = {2, 3}
    expect(f.RobustMeanAbsoluteDeviation).toBeCloseTo(0.5, 14);
  });
  it('voxelArrayShift only changes Energy, TotalEnergy, RootMeanSquared', () => {
    const a = compute('firstorder', input([1, 2, 3, 4], [4, 1, 1]));
    const b = compute('firstorder', input([1, 2, 3, 4], [4, 1, 1], { setting: { voxelArrayShift: 2000 } }));
    expect(b.Energy).toBe(2001 ** 2 + 2002 ** 2 + 2003 ** 2 + 2004 ** 2);
    expect(b.RootMeanSquared).toBeCloseTo(Math.sqrt(b.Energy! / 4), 10);
    for (const k of Object.keys(a)) if (!['Energy', 'TotalEnergy', 'RootMeanSquared'].includes(k)) expect(b[k]).toBe(a[k]);
  });
  it('flat region: skewness and kurtosis are 0', () => {
    const f = compute('firstorder', input([7, 7, 7], [3, 1, 1]));
    expect(f.Skewness).toBe(0);
    expect(f.Kurtosis).toBe(0);
    expect(f.Entropy).toBeCloseTo(0, 12);
  });
});

describe('shape', () => {
  it('single voxel: the mesh is an octahedron through the face centres', () => {
    const f = compute('shape', input([1], [1, 1, 1]));
    expect(f.MeshVolume).toBeCloseTo(1 / 6, 14);
    expect(f.SurfaceArea).toBeCloseTo(Math.sqrt(3), 14);
    expect(f.VoxelVolume).toBe(1);
    expect(f.Maximum3DDiameter).toBeCloseTo(1, 14);
    expect(f.Maximum2DDiameterSlice).toBeCloseTo(1, 14);
  });
  it('single anisotropic voxel (2 × 3 × 4 mm)', () => {
    const f = compute('shape', input([1], [1, 1, 1], { spacing: [2, 3, 4] }));
    expect(f.MeshVolume).toBeCloseTo((4 / 3) * 1 * 1.5 * 2, 12);
    expect(f.SurfaceArea).toBeCloseTo(4 * Math.sqrt(15.25), 12);
    expect(f.VoxelVolume).toBe(24);
    expect(f.Maximum3DDiameter).toBeCloseTo(4, 12);
    expect(f.Maximum2DDiameterSlice).toBeCloseTo(3, 12); // same z: x ±1, y ±1.5
    expect(f.Maximum2DDiameterColumn).toBeCloseTo(4, 12); // same y: z ±2
    expect(f.Maximum2DDiameterRow).toBeCloseTo(4, 12);
  });
  it('axis lengths from the coordinate covariance of a 3-voxel line', () => {
    const f = compute('shape', input([1, 1, 1], [3, 1, 1], { spacing: [2, 1, 1] }));
    // x coordinates 0, 2, 4 → population variance 8/3
    expect(f.MajorAxisLength).toBeCloseTo(4 * Math.sqrt(8 / 3), 12);
    expect(f.MinorAxisLength).toBe(0);
    expect(f.Elongation).toBe(0);
  });
});

describe('shape2D (force2D, single slice)', () => {
  const s2 = { force2D: true, force2Ddimension: 0 };
  it('single pixel: the contour is a diamond through the edge midpoints', () => {
    const f = compute('shape2D', input([1], [1, 1, 1], { setting: s2 }));
    expect(f.MeshSurface).toBeCloseTo(0.5, 14);
    expect(f.PixelSurface).toBe(1);
    expect(f.Perimeter).toBeCloseTo(4 * Math.SQRT1_2, 14);
    expect(f.MaximumDiameter).toBeCloseTo(1, 14);
    expect(f.Sphericity).toBeCloseTo((2 * Math.sqrt(Math.PI * 0.5)) / (4 * Math.SQRT1_2), 14);
  });
  it('2×2 pixels (2 × 3 mm): octagon', () => {
    const f = compute('shape2D', input([1, 1, 1, 1], [2, 2, 1], { spacing: [2, 3, 5], setting: s2 }));
    // 4 × 6 mm rectangle minus four corner triangles (1 × 1.5 mm legs)
    expect(f.MeshSurface).toBeCloseTo(24 - 4 * 0.75, 12);
    expect(f.PixelSurface).toBe(24);
    expect(f.Perimeter).toBeCloseTo(2 * 2 + 2 * 3 + 4 * Math.hypot(1, 1.5), 12);
    // pixel centres (0,0) (2,0) (0,3) (2,3): variances 1 and 2.25
    expect(f.MajorAxisLength).toBeCloseTo(4 * 1.5, 12);
    expect(f.MinorAxisLength).toBeCloseTo(4 * 1, 12);
    expect(f.Elongation).toBeCloseTo(1 / 1.5, 12);
  });
});

describe('texture classes on hand-computable volumes', () => {
  it('GLRLM on the line [1, 1, 2, 2, 2]', () => {
    const f = compute('glrlm', input([1, 1, 2, 2, 2], [5, 1, 1]));
    expect(f.ShortRunEmphasis).toBeCloseTo((1 / 4 + 1 / 9) / 2, 14);
    expect(f.LongRunEmphasis).toBeCloseTo((4 + 9) / 2, 14);
    expect(f.RunPercentage).toBeCloseTo(2 / 5, 14);
    expect(f.GrayLevelNonUniformity).toBeCloseTo(1, 14);
    expect(f.RunLengthNonUniformity).toBeCloseTo(1, 14);
    expect(f.HighGrayLevelRunEmphasis).toBeCloseTo((1 + 4) / 2, 14);
    expect(f.RunEntropy).toBeCloseTo(1, 12);
  });
  it('GLSZM uses 26-connectivity (diagonal neighbours join a zone)', () => {
    // checkerboard 3×3: level 1 on corners + centre (5 voxels), level 2 on edge midpoints (4 voxels)
    const f = compute('glszm', input([1, 2, 1, 2, 1, 2, 1, 2, 1], [3, 3, 1]));
    expect(f.ZonePercentage).toBeCloseTo(2 / 9, 14);
    expect(f.SmallAreaEmphasis).toBeCloseTo((1 / 25 + 1 / 16) / 2, 14);
    expect(f.LargeAreaEmphasis).toBeCloseTo((25 + 16) / 2, 14);
    expect(f.GrayLevelNonUniformity).toBeCloseTo(1, 14);
    expect(f.ZoneEntropy).toBeCloseTo(1, 12);
  });
  it('GLDM on the line [1, 1, 2] (α = 0)', () => {
    const f = compute('gldm', input([1, 1, 2], [3, 1, 1]));
    // level 1: two voxels with 1 dependent neighbour (j = 2); level 2: one voxel with none (j = 1)
    expect(f.SmallDependenceEmphasis).toBeCloseTo((2 / 4 + 1) / 3, 14);
    expect(f.LargeDependenceEmphasis).toBeCloseTo((2 * 4 + 1) / 3, 14);
    expect(f.GrayLevelNonUniformity).toBeCloseTo((4 + 1) / 3, 14);
    expect(f.DependenceNonUniformity).toBeCloseTo((4 + 1) / 3, 14);
  });
  it('NGTDM on the line [1, 2, 3]', () => {
    const f = compute('ngtdm', input([1, 2, 3], [3, 1, 1]));
    // s = [1, 0, 1], p = 1/3 each
    expect(f.Coarseness).toBeCloseTo(1.5, 14);
    const sumPP = (1 / 9) * 2 * (1 + 4 + 1);
    expect(f.Contrast).toBeCloseTo((sumPP / 6) * (2 / 3), 14);
    expect(f.Strength).toBeCloseTo(((2 / 3) * 2 * (1 + 4 + 1)) / 2, 14);
  });
});

/** Brute-force GLCM features from the definitions (13 directions, symmetric, averaged). */
function bruteGlcm(levels: number[], mask: number[], dims: [number, number, number]) {
  const [nx, ny, nz] = dims;
  const dirs: number[][] = [];
  for (let dz = -1; dz <= 1; dz++) for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
    const first = dz !== 0 ? dz : dy !== 0 ? dy : dx;
    if (first > 0) dirs.push([dx, dy, dz]);
  }
  const present = [...new Set(levels.filter((_, i) => mask[i]))].sort((a, b) => a - b);
  const out = { Contrast: 0, JointEnergy: 0, JointEntropy: 0, Correlation: 0, Idmn: 0, ClusterShade: 0, n: 0 };
  const Ng = Math.max(...present);
  for (const [dx, dy, dz] of dirs) {
    const P = new Map<string, number>();
    let tot = 0;
    for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) {
      const i = x + y * nx + z * nx * ny;
      const [X, Y, Z] = [x + dx!, y + dy!, z + dz!];
      if (!mask[i] || X < 0 || Y < 0 || Z < 0 || X >= nx || Y >= ny || Z >= nz) continue;
      const j = X + Y * nx + Z * nx * ny;
      if (!mask[j]) continue;
      for (const [a, b] of [[levels[i]!, levels[j]!], [levels[j]!, levels[i]!]]) {
        P.set(`${a},${b}`, (P.get(`${a},${b}`) ?? 0) + 1);
        tot++;
      }
    }
    if (!tot) continue;
    let ux = 0, uy = 0;
    const cells = [...P.entries()].map(([k, v]) => [...k.split(',').map(Number), v / tot] as [number, number, number]);
    for (const [i, j, p] of cells) { ux += i * p; uy += j * p; }
    let con = 0, en = 0, ent = 0, sx = 0, sy = 0, cor = 0, idmn = 0, cs = 0;
    for (const [i, j, p] of cells) {
      con += (i - j) ** 2 * p;
      en += p * p;
      ent -= p * Math.log2(p + 2.220446049250313e-16);
      sx += (i - ux) ** 2 * p;
      sy += (j - uy) ** 2 * p;
      cor += (i - ux) * (j - uy) * p;
      idmn += p / (1 + (i - j) ** 2 / Ng ** 2);
      cs += (i + j - ux - uy) ** 3 * p;
    }
    out.Contrast += con; out.JointEnergy += en; out.JointEntropy += ent; out.Idmn += idmn; out.ClusterShade += cs;
    out.Correlation += sx * sy === 0 ? 1 : cor / Math.sqrt(sx * sy);
    out.n++;
  }
  const { n, ...f } = out;
  return Object.fromEntries(Object.entries(f).map(([k, v]) => [k, v / n]));
}

describe('GLCM vs. a brute-force implementation on a 4×4×4 phantom', () => {
  // IBSI-style small phantom: 4 gray levels (one level absent inside the ROI), irregular mask
  const dims: [number, number, number] = [4, 4, 4];
  const vals: number[] = [];
  const mask: number[] = [];
  for (let z = 0; z < 4; z++) for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) {
    vals.push([1, 2, 4, 6][(x * 7 + y * 3 + z * 5 + x * y) % 4]!);
    mask.push((x + y + z) % 5 === 4 && z > 0 ? 0 : 1);
  }
  it('matches per-angle definitions averaged over 13 directions', () => {
    const ours = compute('glcm', input(vals, dims, { mask }));
    const ref = bruteGlcm(vals, mask, dims);
    for (const [k, v] of Object.entries(ref)) expect(ours[k], k).toBeCloseTo(v, 12);
  });
});

describe('docs', () => {
  it('every feature of every class has a doc string with its formula', () => {
    let n = 0;
    for (const [cls, def] of Object.entries(FEATURE_CLASSES)) {
      expect(def.doc.length, cls).toBeGreaterThan(20);
      for (const [name, f] of Object.entries(def.features)) {
        expect(typeof f.doc, `${cls}.${name}`).toBe('string');
        expect(f.doc, `${cls}.${name}`).toMatch(/=/);
        n++;
      }
    }
    // 14 shape + 9 shape2D + 18 firstorder + 24 glcm + 16 glrlm + 16 glszm + 14 gldm + 5 ngtdm
    expect(n).toBe(116);
  });
});
