import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore, type Store } from '../../src/store/index.js';
import { driftReport } from '../../src/pipeline/drift.js';
import { scannerKey } from '../../src/common/scanner.js';

const model = {
  name: 'test-model',
  version: '1.0.0',
  normalisation: { source: 'placeholder' },
  terms: [
    { sequence: 'T1', feature: 'original_firstorder_Median', mean: 100, sd: 10 },
    { sequence: 'T2', feature: 'original_glcm_Correlation', mean: 0.5, sd: 0.1 },
  ],
};

/** Two-pass reference statistics. */
function ref(xs: number[]) {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
  return { mean, sd };
}

describe('drift monitor', () => {
  let store: Store;
  beforeEach(() => {
    store = openStore(mkdtempSync(path.join(os.tmpdir(), 'osteo-drift-')));
  });
  afterEach(() => store.close());

  it('keeps running mean/SD per scanner and term equal to the two-pass values', () => {
    // Deterministic pseudo-random values with a large offset (Welford must stay accurate).
    const a = Array.from({ length: 57 }, (_, i) => 1e6 + ((i * 7919) % 101) / 7);
    const b = Array.from({ length: 57 }, (_, i) => 0.5 + (((i * 104729) % 37) - 18) / 300);
    const sA = scannerKey({ manufacturer: 'ACME', model: 'Magnet 1.5T', station: 'MR1' });
    for (let i = 0; i < a.length; i++) {
      store.drift.record(sA, [
        { sequence: 'T1', feature: 'original_firstorder_Median', value: a[i]! },
        { sequence: 'T2', feature: 'original_glcm_Correlation', value: b[i]! },
        { sequence: 'T2', feature: 'original_glcm_Correlation', value: Number.NaN }, // skipped
      ]);
    }
    const r = driftReport(store, model, { maxZ: 2, minStudies: 10 });
    expect(r.scanners).toHaveLength(1);
    const s = r.scanners[0]!;
    expect(s.scanner).toBe('ACME / Magnet 1.5T / MR1');
    expect(s.studies).toBe(57);
    const t1 = s.terms.find((t) => t.sequence === 'T1')!;
    const t2 = s.terms.find((t) => t.sequence === 'T2')!;
    expect(t1.n).toBe(57);
    expect(t1.mean).toBeCloseTo(ref(a).mean, 6);
    expect(t1.sd!).toBeCloseTo(ref(a).sd, 6);
    expect(t2.mean).toBeCloseTo(ref(b).mean, 12);
    expect(t2.sd!).toBeCloseTo(ref(b).sd, 12);
    expect(t1.z).toBeCloseTo((ref(a).mean - 100) / 10, 6);
    expect(t1.warn).toBe(true);
    expect(Math.abs(t2.z!)).toBeLessThan(2);
    expect(t2.warn).toBe(false);
    expect(s.warn).toBe(true);
  });

  it('warns only with enough studies and beyond maxZ; scanners are separate', () => {
    const near = scannerKey({ manufacturer: 'A', model: 'M', station: 'S1' });
    const far = scannerKey({ manufacturer: 'A', model: 'M', station: 'S2' });
    const few = scannerKey({ manufacturer: 'B', model: null, station: undefined });
    expect(few).toBe('B / ? / ?');
    for (let i = 0; i < 12; i++) {
      store.drift.record(near, [{ sequence: 'T1', feature: 'original_firstorder_Median', value: 100 + (i % 2 ? 15 : -15) }]); // mean 100
      store.drift.record(far, [{ sequence: 'T1', feature: 'original_firstorder_Median', value: 125 + (i % 2 ? 1 : -1) }]); // z = 2.5
    }
    for (let i = 0; i < 5; i++) store.drift.record(few, [{ sequence: 'T1', feature: 'original_firstorder_Median', value: 200 }]); // z = 10, too few
    // A feature of another model version is ignored against the loaded model.
    store.drift.record(near, [{ sequence: 'T1', feature: 'original_shape_VoxelVolume', value: 1 }]);
    const r = driftReport(store, model, { maxZ: 2, minStudies: 10 });
    const by = Object.fromEntries(r.scanners.map((s) => [s.scanner, s]));
    expect(by[near]!.warn).toBe(false);
    expect(by[near]!.terms.map((t) => t.feature)).toEqual(['original_firstorder_Median']);
    expect(by[near]!.terms[0]!.z).toBeCloseTo(0, 12);
    expect(by[far]!.warn).toBe(true);
    expect(by[far]!.terms[0]!.z).toBeCloseTo(2.5, 12);
    expect(by[few]!.judged).toBe(false);
    expect(by[few]!.warn).toBe(false);
    expect(by[few]!.terms[0]!.z).toBeCloseTo(10, 12);
    // A stricter threshold flips `far` back; fewer required studies makes `few` warn.
    const r2 = driftReport(store, model, { maxZ: 3, minStudies: 5 });
    expect(r2.scanners.filter((s) => s.warn).map((s) => s.scanner)).toEqual([few]);
  });

  it('the scanner key trims each part (DICOM space padding) and marks blank parts', () => {
    // The service, drift and calibration all use this one function (src/common/scanner.ts); the service test
    // test/service/calibration.test.ts reads /api/drift after scoring studies from two scanners.
    expect(scannerKey({ manufacturer: 'SIEMENS ', model: ' Avanto', station: 'MR1 ' })).toBe('SIEMENS / Avanto / MR1');
    expect(scannerKey({ manufacturer: '  ', model: '', station: null })).toBe('? / ? / ?');
    expect(scannerKey(null)).toBe('? / ? / ?');
  });
});
