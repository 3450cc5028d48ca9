import { describe, expect, it } from 'vitest';
import { forPeople, scoreVsCutoff } from '../../src/report/numbers.js';

describe('numbers for people', () => {
  it('radscore and cut-off get enough decimals that the comparison can be read', () => {
    expect(scoreVsCutoff(0.52477, 0.525)).toEqual({ score: '0.5248', cutoff: '0.5250', nearness: 'just below the cut-off' });
    expect(scoreVsCutoff(0.5251, 0.525)).toEqual({ score: '0.5251', cutoff: '0.5250', nearness: 'just above the cut-off' });
    expect(scoreVsCutoff(0.71, 0.542)).toEqual({ score: '0.710', cutoff: '0.542', nearness: undefined });
    expect(scoreVsCutoff(0.5249999, 0.525)).toEqual({ score: '0.525000', cutoff: '0.525000', nearness: 'just below the cut-off' });
    expect(scoreVsCutoff(0.525, 0.525).nearness).toBe('at the cut-off');
    // The rounded pair never contradicts the real order.
    for (let k = 0; k < 2000; k++) {
      const c = Math.random();
      const s = c + (Math.random() - 0.5) * 10 ** -(1 + Math.random() * 5);
      const p = scoreVsCutoff(s, c);
      if (Number(p.score) !== Number(p.cutoff)) expect(Number(p.score) > Number(p.cutoff), `${s} ${c}`).toBe(s > c);
    }
  });

  it('other values: 4 significant digits, large ones to the unit, within 16 characters', () => {
    expect(forPeople(0.1 + 0.2)).toBe('0.3');
    expect(forPeople(1 / 3)).toBe('0.3333');
    expect(forPeople(-0.000012345678)).toBe('-0.00001235');
    expect(forPeople(1.2345e-9)).toBe('1.235e-9');
    expect(forPeople(24000.5)).toBe('24001');
    expect(forPeople(1234.5678)).toBe('1235');
    for (const x of [1e-300, -9.87654321e300, 123456789012345.6]) expect(forPeople(x).length).toBeLessThanOrEqual(16);
  });
});
