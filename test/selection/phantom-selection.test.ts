/**
 * Series selection and volume geometry on 20 phantom studies (4 seeds × 5 studies, all three vendors,
 * 3 of them Enhanced MR): selection must pick exactly the sagittal T1 and T2 and never a distractor, and the
 * assembled volumes must equal the generator's ground-truth geometry within 1e-4.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writePhantomStudies, type StudyManifest } from '../../src/phantom/index.js';
import type { Vendor } from '../../src/phantom/index.js';
import { readSeriesHeader, selectSeries, classifySeries, angleToLeftRight, DEFAULT_SELECTION_RULES, type SeriesHeader } from '../../src/pipeline/selection.js';
import { loadSeriesVolume } from '../../src/dicom/volume.js';
import { configSchema } from '../../src/config/schema.js';

const VENDORS: Vendor[] = ['siemens', 'ge', 'philips'];

describe('series selection on 20 phantom studies', () => {
  let root: string;
  const studies: StudyManifest[] = [];
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'phantom-sel-'));
    let n = 0;
    for (const seed of [101, 202, 303, 404]) {
      for (let i = 0; i < 5; i++) {
        const enhanced = n % 7 === 3; // 3 of 20
        const [m] = writePhantomStudies({ out: join(root, `s${seed}`), seed, start: i, count: 1, vendor: VENDORS[n % 3], enhanced, subSamples: 1 });
        studies.push({ ...m!, dir: join(`s${seed}`, m!.dir), series: m!.series.map((s) => ({ ...s, files: s.files.map((f) => join(`s${seed}`, f)) })) });
        n++;
      }
    }
    // ~65 s of synchronous phantom generation alone on 2 cores: allow for a loaded machine.
  }, 300_000);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('default rules equal the config defaults', () => {
    expect(configSchema.parse({}).selection).toEqual(DEFAULT_SELECTION_RULES);
  });

  it('picks exactly the sagittal T1 and T2 in every study, with a reason for every distractor', () => {
    expect(studies).toHaveLength(20);
    expect(new Set(studies.map((s) => s.vendor)).size).toBe(3);
    expect(studies.filter((s) => s.enhanced).length).toBe(3);
    let correct = 0;
    const rules = configSchema.parse({}).selection;
    for (const st of studies) {
      const headers: SeriesHeader[] = st.series.map((s) => readSeriesHeader(s.files.map((f) => join(root, f))));
      const r = selectSeries(headers, rules);
      const t1 = st.series.find((s) => s.role === 't1')!.seriesInstanceUID;
      const t2 = st.series.find((s) => s.role === 't2')!.seriesInstanceUID;
      expect(r.t1, `${st.dir} T1`).toBe(t1);
      expect(r.t2, `${st.dir} T2`).toBe(t2);
      expect(r.notAssessableReason).toBeUndefined();
      // every distractor is skipped with its own reason
      const reasons = new Map(r.skipped.map((s) => [s.series, s.reason]));
      for (const s of st.series.filter((x) => !x.expectedSelection)) {
        const why = reasons.get(s.seriesInstanceUID);
        expect(why, `${st.dir} ${s.role}`).toBeTruthy();
        if (s.role === 'localizer') expect(why).toMatch(/orientations/);
        if (s.role === 'stir') expect(why).toMatch(/inversion recovery|exclusion pattern/);
        if (s.role === 'axial-t2') expect(why).toMatch(/not sagittal/);
        if (s.role === 'derived') expect(why).toMatch(/not an original image/);
      }
      expect(r.skipped).toHaveLength(st.series.length - 2);
      if (r.t1 === t1 && r.t2 === t2) correct++;
    }
    expect(correct).toBe(20);
  });

  it('STIR is rejected by its inversion time even when the description does not say STIR', () => {
    const rules = { ...DEFAULT_SELECTION_RULES, excludeDescription: '' };
    for (const st of studies.slice(0, 6)) {
      const s = st.series.find((x) => x.role === 'stir')!;
      const h = readSeriesHeader(s.files.map((f) => join(root, f)));
      const c = classifySeries(h, rules);
      expect('reason' in c && c.reason).toMatch(/inversion recovery \(TI \d+(\.\d+)? ms\)/);
    }
  });

  it('assembled T1/T2 volumes equal the generator geometry within 1e-4 (shuffled file order)', async () => {
    let worst = 0;
    for (const st of studies) {
      for (const role of ['t1', 't2'] as const) {
        const sm = st.series.find((s) => s.role === role)!;
        const files = sm.files.map((f) => join(root, f));
        // deterministic shuffle
        const shuffled = files.map((f, i) => ({ f, k: (i * 7919) % 101 })).sort((a, b) => a.k - b.k).map((x) => x.f);
        const v = await loadSeriesVolume(shuffled);
        const g = sm.geometry!;
        expect(v.dims).toEqual(g.dims);
        for (let k = 0; k < 3; k++) worst = Math.max(worst, Math.abs(v.origin[k]! - g.origin[k]!), Math.abs(v.spacing[k]! - g.spacing[k]!));
        for (let k = 0; k < 9; k++) worst = Math.max(worst, Math.abs(v.direction[k]! - g.direction[k]!));
        // sagittal, as selection decided
        const ori = [v.direction[0], v.direction[3], v.direction[6], v.direction[1], v.direction[4], v.direction[7]];
        expect(angleToLeftRight(ori)).toBeLessThan(30);
      }
    }
    console.info(`worst geometry error over 40 volumes: ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-4);
  });
});

describe('selection rules (synthetic headers)', () => {
  const base: SeriesHeader = {
    seriesInstanceUID: '1.2.3',
    studyInstanceUID: '1.2',
    modality: 'MR',
    seriesNumber: 2,
    seriesDescription: 't1_tse_sag',
    bodyPartExamined: 'LSPINE',
    imageType: ['ORIGINAL', 'PRIMARY', 'M'],
    anyDerived: false,
    repetitionTime: 500,
    echoTime: 10,
    inversionTime: null,
    inversionRecovery: false,
    scanOptions: [],
    sopClassUID: '1.2.840.10008.5.1.4.1.1.4',
    enhanced: false,
    fileCount: 12,
    frameCount: 12,
    orientations: [[0, 1, 0, 0, 0, -1]],
    siExtentMm: 320,
    rows: 384,
    columns: 384,
    files: [],
  };
  const t2: SeriesHeader = { ...base, seriesInstanceUID: '1.2.4', seriesNumber: 3, seriesDescription: 't2_tse_sag', repetitionTime: 3000, echoTime: 100 };

  it('a study without a sagittal T2 is not assessable with the reason', () => {
    const r = selectSeries([base, { ...t2, orientations: [[1, 0, 0, 0, 1, 0]] }]);
    expect(r.t1).toBe('1.2.3');
    expect(r.t2).toBeNull();
    expect(r.notAssessableReason).toBe('no sagittal T2');
    expect(r.skipped[0]!.reason).toMatch(/not sagittal/);
    expect(selectSeries([]).notAssessableReason).toBe('no sagittal T1 and no sagittal T2');
    expect(selectSeries([t2]).notAssessableReason).toBe('no sagittal T1');
  });

  it('prefers the lumbar series with most slices; description only breaks ties', () => {
    const few = { ...base, seriesInstanceUID: '9.1', frameCount: 9 };
    const many = { ...base, seriesInstanceUID: '9.2', frameCount: 15, seriesDescription: 'sag se' };
    const r = selectSeries([few, many, t2]);
    expect(r.t1).toBe('9.2');
    expect(r.skipped.find((s) => s.series === '9.1')!.reason).toMatch(/more slices: 15 vs 9/);
    const tie1 = { ...base, seriesInstanceUID: '8.1', seriesDescription: 'sag se 1', seriesNumber: 5 };
    const tie2 = { ...base, seriesInstanceUID: '8.2', seriesDescription: 'sag T1', seriesNumber: 4 };
    expect(selectSeries([tie1, tie2, t2]).t1).toBe('8.2');
    // lumbar coverage beats slice count: a thoracic-only stack with more slices loses
    const thoracic = { ...base, seriesInstanceUID: '7.1', frameCount: 19, seriesDescription: 't1_tse_sag thoracic', siExtentMm: 150 };
    expect(selectSeries([thoracic, base, t2]).t1).toBe('1.2.3');
  });

  it('rejects with explicit reasons', () => {
    const why = (h: SeriesHeader) => {
      const c = classifySeries(h, DEFAULT_SELECTION_RULES);
      return 'reason' in c ? c.reason : `weighting ${c.weighting}`;
    };
    expect(why({ ...base, modality: 'CT' })).toMatch(/modality CT/);
    expect(why({ ...base, imageType: ['DERIVED', 'SECONDARY'], anyDerived: true })).toMatch(/not an original image/);
    expect(why({ ...base, orientations: [[0.0, 0.5, -0.866, 0, 0.866, 0.5]] })).toMatch(/weighting T1/); // oblique in-plane: still sagittal
    expect(why({ ...base, orientations: [[0.7071, 0.7071, 0, 0, 0, -1]] })).toMatch(/not sagittal \(slice normal 45°/);
    expect(why({ ...base, frameCount: 3 })).toMatch(/only 3 slice/);
    expect(why({ ...t2, inversionRecovery: true, inversionTime: 150 })).toMatch(/TI 150 ms/);
    expect(why({ ...t2, scanOptions: ['FS'] })).toMatch(/fat suppression/);
    expect(why({ ...t2, seriesDescription: 'SAG T2 FAT SAT' })).toMatch(/exclusion pattern/);
    expect(why({ ...base, repetitionTime: 1200, echoTime: 20 })).toMatch(/neither T1/);
    expect(why({ ...base, repetitionTime: null })).toMatch(/missing RepetitionTime/);
    expect(why({ ...base, bodyPartExamined: 'CSPINE' })).toMatch(/body part CSPINE/);
    expect(why(t2)).toBe('weighting T2');
    // configurable thresholds
    expect('weighting' in classifySeries({ ...base, repetitionTime: 1200 }, { ...DEFAULT_SELECTION_RULES, t1MaxTr: 1300 })).toBe(true);
  });
});
