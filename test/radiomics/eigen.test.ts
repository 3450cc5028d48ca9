import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { symmetricEigenvalues } from '../../src/radiomics/eigen.js';
import { rng } from '../../src/model/stats/misc.js';

describe('symmetricEigenvalues', () => {
  it('matches ml-matrix EVD on random symmetric matrices (with zero rows/blocks)', () => {
    const r = rng(7);
    let worst = 0;
    for (let t = 0; t < 150; t++) {
      const n = 1 + (t % 45);
      const a = new Float64Array(n * n);
      for (let i = 0; i < n; i++) for (let j = i; j < n; j++) {
        const v = r() < 0.3 || i === 3 || j === 3 ? 0 : r() - 0.5;
        a[i * n + j] = v;
        a[j * n + i] = v;
      }
      const M = new Matrix(n, n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) M.set(i, j, a[i * n + j]!);
      const ref = new EigenvalueDecomposition(M, { assumeSymmetric: true }).realEigenvalues.sort((x, y) => x - y);
      const ours = symmetricEigenvalues(a, n);
      for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(ours[i]! - ref[i]!));
    }
    expect(worst).toBeLessThan(1e-12);
  });

  it('gives the known spectrum of a diagonal and a 2x2 matrix', () => {
    expect(Array.from(symmetricEigenvalues(Float64Array.of(3, 0, 0, 0, 1, 0, 0, 0, 2), 3))).toEqual([1, 2, 3]);
    const ev = symmetricEigenvalues(Float64Array.of(2, 1, 1, 2), 2);
    expect(ev[0]).toBeCloseTo(1, 14);
    expect(ev[1]).toBeCloseTo(3, 14);
  });
});
