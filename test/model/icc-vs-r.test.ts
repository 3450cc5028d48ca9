import { describe, expect, it } from 'vitest';
import { HAVE_R, runR } from './rscript.js';
import { skipWithout } from '../helpers/tools.js';
import { blandAltman, iccA1, medianRelativeDifference, pf, qf } from '../../src/model/stats/icc.js';
import { icc21 } from '../../src/model/stats/misc.js';
import { R_ICC_A1, SHROUT_FLEISS } from './icc-ref.js';


describe('ICC(A,1) without R', () => {
  it('reproduces the published Shrout & Fleiss (1979) ICC(2,1) = 0.29 and its CI 0.019-0.76 (as psych::ICC prints)', () => {
    const r = iccA1(SHROUT_FLEISS);
    expect(r.n).toBe(6);
    expect(r.k).toBe(4);
    expect(r.icc).toBeCloseTo(0.29, 2); // published to 2 decimals
    expect(Math.abs(r.lower - 0.019)).toBeLessThan(0.0015);
    expect(Math.abs(r.upper - 0.76)).toBeLessThan(0.005);
    // the old point-estimate helper now is the same code
    expect(icc21(SHROUT_FLEISS)).toBe(r.icc);
  });

  it('is 1 for identical raters, drops rows with a missing value, NaN for fewer than 2 subjects', () => {
    const same = SHROUT_FLEISS.map((r) => [r[0]!, r[0]!]);
    expect(iccA1(same).icc).toBeCloseTo(1, 12);
    const withNaN = [...SHROUT_FLEISS.map((r) => [r[0]!, r[1]!]), [NaN, 3]];
    expect(iccA1(withNaN).n).toBe(6);
    expect(iccA1(withNaN).icc).toBeCloseTo(iccA1(SHROUT_FLEISS.map((r) => [r[0]!, r[1]!])).icc, 12);
    expect(Number.isNaN(iccA1([[1, 2]]).icc)).toBe(true);
    // a constant offset between raters lowers absolute agreement
    const x = [1, 2, 3, 4, 5, 6, 7, 8];
    expect(iccA1(x.map((v) => [v, v + 2])).icc).toBeLessThan(iccA1(x.map((v) => [v, v + 0.1])).icc);
  });

  it('Bland-Altman and median relative difference by hand', () => {
    const ba = blandAltman([2, 4, 6, 9], [1, 3, 5, 7]);
    expect(ba.bias).toBeCloseTo(1.25, 12);
    expect(ba.sdDiff).toBeCloseTo(0.5, 12);
    expect(ba.loaLower).toBeCloseTo(1.25 - 0.98, 12);
    expect(ba.loaUpper).toBeCloseTo(1.25 + 0.98, 12);
    expect(medianRelativeDifference([2, 4, 6, 9], [1, 2, 5, 10])).toBeCloseTo((0.2 + 1) / 2, 12);
  });
});

const R = describe.skipIf(skipWithout(HAVE_R, 'Rscript', 'Debian packages r-base-core r-cran-glmnet r-cran-proc'));

R('ICC(A,1) against base R (live Rscript)', () => {
  it('Shrout & Fleiss table: ICC, CI and mean squares match R aov + qf to 1e-9', () => {
    const r = runR(`${R_ICC_A1}\nout("icc", iccA1(D$M))`, { M: SHROUT_FLEISS });
    const mine = iccA1(SHROUT_FLEISS);
    const [icc, lo, up, msr, msc, mse] = r.icc!;
    expect(Math.abs(mine.icc - icc!)).toBeLessThan(1e-9);
    expect(Math.abs(mine.lower - lo!)).toBeLessThan(1e-9);
    expect(Math.abs(mine.upper - up!)).toBeLessThan(1e-9);
    expect(Math.abs(mine.msr - msr!)).toBeLessThan(1e-9);
    expect(Math.abs(mine.msc - msc!)).toBeLessThan(1e-9);
    expect(Math.abs(mine.mse - mse!)).toBeLessThan(1e-9);
  });

  it('two-rater tables of several sizes and agreement levels match R to 1e-8', () => {
    const tables: number[][][] = [];
    let s = 12345;
    const rand = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (const [n, noise, offset] of [[14, 0.2, 0], [10, 1, 0.5], [4, 0.5, 0.1], [30, 3, 2]] as const) {
      tables.push(Array.from({ length: n }, () => {
        const t = rand() * 10;
        return [t + noise * (rand() - 0.5), t + offset + noise * (rand() - 0.5)];
      }));
    }
    const script = `${R_ICC_A1}\n${tables.map((_, i) => `out("t${i}", iccA1(D$t${i}))`).join('\n')}`;
    const r = runR(script, Object.fromEntries(tables.map((t, i) => [`t${i}`, t])));
    tables.forEach((t, i) => {
      const mine = iccA1(t);
      const [icc, lo, up] = r[`t${i}`]!;
      expect(Math.abs(mine.icc - icc!)).toBeLessThan(1e-8);
      expect(Math.abs(mine.lower - lo!)).toBeLessThan(1e-8);
      expect(Math.abs(mine.upper - up!)).toBeLessThan(1e-8);
    });
  });

  it('F distribution: pf/qf match R for non-integer degrees of freedom', () => {
    const cases = [[0.975, 5, 3.7], [0.975, 13, 1.2], [0.5, 2.5, 40], [0.025, 7, 7]] as const;
    const r = runR(`out("q", c(${cases.map(([p, a, b]) => `qf(${p}, ${a}, ${b})`).join(',')}))\nout("p", c(${cases.map(([, a, b]) => `pf(2, ${a}, ${b})`).join(',')}))`, {});
    cases.forEach(([p, a, b], i) => {
      expect(Math.abs(qf(p, a, b) - r.q![i]!) / r.q![i]!).toBeLessThan(1e-9);
      expect(Math.abs(pf(2, a, b) - r.p![i]!)).toBeLessThan(1e-12);
    });
  });
});
