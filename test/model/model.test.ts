import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  loadModel,
  modelHash,
  parseModel,
  requiredFeatures,
  scoreStudy,
  isNotAssessable,
  finaliseModel,
  type RadscoreModel,
  type StudyFeatures,
  DEFAULT_EXTRACTION,
} from '../../src/model/index.js';
import { radiomicsSettingsOf, roiConfigConflict, roiSpecOf } from '../../src/model/extraction.js';
import { defaultSettings } from '../../src/radiomics/settings.js';

const PAPER = join(import.meta.dirname, '../../models/paper-t1t2.json');
const tmp = () => mkdtempSync(join(tmpdir(), 'osteo-model-'));

/** Feature values at mean + k·sd for every term (so z = k). */
function featuresAt(model: RadscoreModel, k: (i: number) => number): StudyFeatures {
  const f: StudyFeatures = { T1: {}, T2: {} };
  model.terms.forEach((t, i) => (f[t.sequence][t.feature] = t.mean + k(i) * t.sd));
  return f;
}

describe('radscore model file', () => {
  it('ships the paper model: validates, hash matches, coefficients/intercept/cut-off as published, uncalibrated', () => {
    const m = loadModel(PAPER);
    expect(m.hash).toBe(modelHash(m));
    expect(m.calibrated).toBe(false);
    expect(m.normalisation.source).toBe('placeholder');
    expect(m.intercept).toBe(0.538);
    expect(m.cutoff).toBe(0.525);
    // published coefficients (study Table 3 / shared/reference/paper-model.json)
    const published = [
      ['T1', 'original_shape_SurfaceVolumeRatio', 0.035],
      ['T1', 'boxsigmaimage_glcm_Correlation', 0.013],
      ['T2', 'original_shape_SurfaceVolumeRatio', 0.009],
      ['T2', 'original_glszm_SmallAreaEmphasis', 0.004],
      ['T1', 'original_shape_MeshVolume', -0.002],
      ['T1', 'original_shape_VoxelVolume', -0.003],
      ['T2', 'wavelet-LLH_glszm_LargeAreaHighGrayLevelEmphasis', -0.015],
      ['T1', 'additivegaussiannoise_glszm_LowGrayLevelZoneEmphasis', -0.019],
      ['T2', 'log-sigma-4-0-mm-3D_firstorder_Median', -0.027],
    ];
    expect(m.terms.map((t) => [t.sequence, t.feature, t.coefficient])).toEqual(published);
    const shared = join(import.meta.dirname, '../../../shared/reference/paper-model.json');
    if (existsSync(shared)) {
      const paper = JSON.parse(readFileSync(shared, 'utf8')) as { terms: { sequence: string; feature: string; coefficient: number }[]; intercept: number; cutoff: number };
      expect(m.terms.map((t) => [t.sequence, t.feature, t.coefficient])).toEqual(paper.terms.map((t) => [t.sequence, t.feature, t.coefficient]));
      expect([m.intercept, m.cutoff]).toEqual([paper.intercept, paper.cutoff]);
    }
    for (const t of m.terms) expect(t.basis?.length ?? 0, `${t.feature} placeholder basis`).toBeGreaterThan(20);
    expect(m.extraction.settings.binWidth).toBe(25);
    expect(m.extraction.imageTypes.LoG?.sigma).toContain(4);
  });

  it('requiredFeatures lists exactly the terms per sequence', () => {
    const m = loadModel(PAPER);
    const r = requiredFeatures(m);
    expect(r.T1.sort()).toEqual(
      ['original_shape_SurfaceVolumeRatio', 'boxsigmaimage_glcm_Correlation', 'original_shape_MeshVolume', 'original_shape_VoxelVolume', 'additivegaussiannoise_glszm_LowGrayLevelZoneEmphasis'].sort(),
    );
    expect(r.T2.sort()).toEqual(['original_shape_SurfaceVolumeRatio', 'original_glszm_SmallAreaEmphasis', 'wavelet-LLH_glszm_LargeAreaHighGrayLevelEmphasis', 'log-sigma-4-0-mm-3D_firstorder_Median'].sort());
  });

  it('scores = intercept + Σ coef·z with per-term contributions; flag = score > cutoff; uncalibrated notice', () => {
    const m = loadModel(PAPER);
    const zs = [1.5, -0.5, 2, 0.25, -1, 3, -2, 0.75, 1];
    const r = scoreStudy(m, featuresAt(m, (i) => zs[i]!));
    if (isNotAssessable(r)) throw new Error(r.notAssessable);
    const expected = 0.538 + m.terms.reduce((s, t, i) => s + t.coefficient * zs[i]!, 0);
    expect(r.score).toBeCloseTo(expected, 12);
    expect(r.terms).toHaveLength(9);
    r.terms.forEach((t, i) => {
      expect(t.z).toBeCloseTo(zs[i]!, 12);
      expect(t.contribution).toBeCloseTo(m.terms[i]!.coefficient * zs[i]!, 12);
    });
    expect(r.flag).toBe(expected > 0.525);
    expect(r.calibrated).toBe(false);
    expect(r.calibrationNotice).toMatch(/UNCALIBRATED/);
    expect(r.model).toEqual({ name: m.name, version: m.version, hash: m.hash });
    // all at the mean: score = intercept 0.538 > 0.525 -> flagged
    const atMean = scoreStudy(m, featuresAt(m, () => 0));
    expect(!isNotAssessable(atMean) && atMean.score).toBeCloseTo(0.538, 12);
    expect(!isNotAssessable(atMean) && atMean.flag).toBe(true);
  });

  it('flag is strictly score > cutoff (score == cutoff is not flagged)', () => {
    const m0 = loadModel(PAPER);
    const m = finaliseModel({ ...m0, cutoff: 0.538 });
    const r = scoreStudy(m, featuresAt(m, () => 0));
    expect(!isNotAssessable(r) && r.score).toBe(0.538);
    expect(!isNotAssessable(r) && r.flag).toBe(false);
  });

  it('model.requireCalibrated suppresses the flag of an uncalibrated model', () => {
    const m = loadModel(PAPER);
    const r = scoreStudy(m, featuresAt(m, () => 1), { requireCalibrated: true });
    if (isNotAssessable(r)) throw new Error('unexpected');
    expect(r.flag).toBeNull();
    expect(r.flagSuppressed).toMatch(/not interpretable until calibrated for this site/);
    expect(r.noFlag!.map((n) => n.kind)).toEqual(['uncalibrated']);
    expect(Number.isFinite(r.score)).toBe(true);
    const cal = finaliseModel({ ...m, calibrated: true, normalisation: { source: 'calibration', description: 'test', n: 30 } });
    const r2 = scoreStudy(cal, featuresAt(cal, () => 1), { requireCalibrated: true });
    expect(!isNotAssessable(r2) && typeof r2.flag).toBe('boolean');
    expect(!isNotAssessable(r2) && r2.calibrationNotice).toBeUndefined();
  });

  it('out-of-range guard: a term with |z| > maxAbsZ gives no flag, naming the term and its z (calibrated models too)', () => {
    const m0 = loadModel(PAPER);
    const cal = finaliseModel({ ...m0, calibrated: true, normalisation: { source: 'calibration', description: 'test', n: 30 } });
    const feats = featuresAt(cal, () => 0.5);
    const t = cal.terms.find((x) => x.feature === 'additivegaussiannoise_glszm_LowGrayLevelZoneEmphasis')!;
    feats.T1[t.feature] = t.mean + 45 * t.sd;
    const r = scoreStudy(cal, feats);
    if (isNotAssessable(r)) throw new Error('unexpected');
    expect(r.flag).toBeNull();
    expect(r.outOfRange).toHaveLength(1);
    expect(r.outOfRange![0]).toMatchObject({ sequence: 'T1', feature: t.feature, rule: 'max-abs-z' });
    expect(r.flagSuppressed).toBe("T1 additivegaussiannoise_glszm_LowGrayLevelZoneEmphasis z = 45: outside the model's calibrated range (|z| > 4)");
    // Just inside the limit: a flag again; the limit is configurable.
    feats.T1[t.feature] = t.mean + 3.9 * t.sd;
    const inside = scoreStudy(cal, feats);
    expect(!isNotAssessable(inside) && typeof inside.flag).toBe('boolean');
    const strict = scoreStudy(cal, feats, { maxAbsZ: 3 });
    expect(!isNotAssessable(strict) && strict.flag).toBeNull();
    // Negative z counts too.
    feats.T1[t.feature] = t.mean - 4.5 * t.sd;
    const neg = scoreStudy(cal, feats);
    expect(!isNotAssessable(neg) && neg.outOfRange![0]!.message).toContain('z = -4.5');
  });

  it('out-of-range guard: outside the calibration cohort\'s observed range plus the margin gives no flag', () => {
    const m0 = loadModel(PAPER);
    const terms = m0.terms.map((t) => ({ ...t, basis: undefined, observed: { min: t.mean - 1 * t.sd, max: t.mean + 1 * t.sd } }));
    const cal = finaliseModel({ ...m0, terms, calibrated: true, normalisation: { source: 'calibration', description: 'test', n: 30 } });
    const feats = featuresAt(cal, () => 0);
    const t = cal.terms[0]!;
    feats[t.sequence][t.feature] = t.mean + 1.9 * t.sd; // within max + 1 SD
    const ok = scoreStudy(cal, feats);
    expect(!isNotAssessable(ok) && typeof ok.flag).toBe('boolean');
    feats[t.sequence][t.feature] = t.mean + 2.1 * t.sd; // beyond max + 1 SD, though |z| < 4
    const out = scoreStudy(cal, feats);
    if (isNotAssessable(out)) throw new Error('unexpected');
    expect(out.flag).toBeNull();
    expect(out.outOfRange![0]).toMatchObject({ rule: 'observed-range', feature: t.feature });
    expect(out.flagSuppressed).toMatch(/z = 2\.1\): outside the model's calibrated range \(calibration cohort .* margin 1 SD\)/);
    // A wider margin lets it through.
    const wide = scoreStudy(cal, feats, { rangeMarginSd: 2 });
    expect(!isNotAssessable(wide) && typeof wide.flag).toBe('boolean');
  });

  it('a missing, null or NaN term makes the study not assessable with a reason (never a silent score)', () => {
    const m = loadModel(PAPER);
    const f = featuresAt(m, () => 0);
    delete f.T2['log-sigma-4-0-mm-3D_firstorder_Median'];
    f.T1['boxsigmaimage_glcm_Correlation'] = NaN;
    f.T1['original_shape_VoxelVolume'] = null;
    const r = scoreStudy(m, f);
    expect(isNotAssessable(r)).toBe(true);
    if (!isNotAssessable(r)) return;
    expect(r.missing).toHaveLength(3);
    expect(r.notAssessable).toContain('T2 log-sigma-4-0-mm-3D_firstorder_Median not computed');
    expect(r.notAssessable).toContain('T1 boxsigmaimage_glcm_Correlation not finite');
    expect(r.notAssessable).toContain('T1 original_shape_VoxelVolume missing');
    expect('score' in r).toBe(false);
  });

  it('extra features are ignored (only the named terms are used)', () => {
    const m = loadModel(PAPER);
    const f = featuresAt(m, () => 0.3);
    const a = scoreStudy(m, f);
    f.T1['original_firstorder_Mean'] = 1e9;
    f.T2['original_glcm_Idm'] = -5;
    const b = scoreStudy(m, f);
    expect(!isNotAssessable(a) && !isNotAssessable(b) && a.score === b.score).toBe(true);
  });

  it('rejects an edited file (hash mismatch) and invalid models with clear messages', () => {
    const dir = tmp();
    const json = JSON.parse(readFileSync(PAPER, 'utf8'));
    const write = (obj: unknown) => {
      const p = join(dir, `m${Math.random()}.json`);
      writeFileSync(p, JSON.stringify(obj));
      return p;
    };
    const edited = structuredClone(json);
    edited.terms[0].coefficient = 0.5;
    expect(() => loadModel(write(edited))).toThrow(/hash mismatch/);
    const rehash = (o: Record<string, unknown>) => ({ ...o, hash: modelHash(o as unknown as RadscoreModel) });
    const badSd = structuredClone(json);
    badSd.terms[1].sd = 0;
    expect(() => loadModel(write(rehash(badSd)))).toThrow(/terms\.1\.sd: must be > 0/);
    const badName = structuredClone(json);
    badName.terms[2].feature = 'SurfaceVolumeRatio';
    expect(() => loadModel(write(rehash(badName)))).toThrow(/terms\.2\.feature: .*PyRadiomics feature name/);
    const badSigma = structuredClone(json);
    badSigma.extraction.imageTypes.LoG.sigma = [1, 2, 3];
    expect(() => loadModel(write(rehash(badSigma)))).toThrow(/terms\.8\.feature: .*needs LoG sigma 4/);
    const misspelt = structuredClone(json);
    misspelt.terms[2].feature = 'original_glcm_JointEnergyy';
    expect(() => loadModel(write(rehash(misspelt)))).toThrow(/terms\.2\.feature: glcm has no feature "JointEnergyy"; known: .*JointEnergy/);
    const level2 = structuredClone(json);
    level2.terms[2].feature = 'wavelet2-LLH_glcm_Idmn';
    expect(() => loadModel(write(rehash(level2)))).toThrow(/imageTypes\.Wavelet with these options does not yield "wavelet2-LLH"/);
    const badOption = structuredClone(json);
    badOption.extraction.imageTypes.LoG.sigmaa = [1];
    expect(() => loadModel(write(rehash(badOption)))).toThrow(/imageTypes\.LoG: .*sigmaa/);
    const badSetting = structuredClone(json);
    badSetting.extraction.settings.binwidth = 25;
    expect(() => loadModel(write(rehash(badSetting)))).toThrow(/settings: .*binwidth/);
    const l5 = structuredClone(json);
    l5.extraction.roi.vertebrae.push('L5');
    expect(() => loadModel(write(rehash(l5)))).toThrow(/roi\.vertebrae\.4/);
    const even = structuredClone(json);
    even.extraction.roi.slicesPerBody = 2;
    expect(() => loadModel(write(rehash(even)))).toThrow(/slicesPerBody: must be odd/);
    const noWavelet = structuredClone(json);
    delete noWavelet.extraction.imageTypes.Wavelet;
    expect(() => loadModel(write(rehash(noWavelet)))).toThrow(/imageTypes\.Wavelet/);
    const typo = structuredClone(json);
    typo.cutof = 0.5;
    expect(() => loadModel(write(rehash(typo)))).toThrow(/cutof/);
    const liar = structuredClone(json);
    liar.calibrated = true;
    expect(() => loadModel(write(rehash(liar)))).toThrow(/placeholder normalisation cannot be calibrated/);
    const dup = structuredClone(json);
    dup.terms.push(structuredClone(dup.terms[0]));
    expect(() => loadModel(write(rehash(dup)))).toThrow(/duplicate term T1:original_shape_SurfaceVolumeRatio/);
    expect(() => loadModel(join(dir, 'nope.json'))).toThrow(/cannot read radscore model/);
    writeFileSync(join(dir, 'bad.json'), '{');
    expect(() => loadModel(join(dir, 'bad.json'))).toThrow(/not valid JSON/);
    // the untouched copy is fine
    expect(parseModel(json).name).toBe('paper-t1t2-radscore');
  });

  it('modelHash is independent of key order and changes with content', () => {
    const m = loadModel(PAPER);
    const reordered = Object.fromEntries(Object.entries(m).reverse()) as RadscoreModel;
    expect(modelHash(reordered)).toBe(m.hash);
    expect(modelHash({ ...m, cutoff: 0.5251 })).not.toBe(m.hash);
  });
});

describe('default extraction settings', () => {
  it('are the radiomics engine defaults and the shipped model\'s extraction (its ROI text aside)', () => {
    // DEFAULT_EXTRACTION (written into trained models) and radiomics DEFAULT_PARAMS_OBJECT are two forms of one setting.
    expect(radiomicsSettingsOf({ extraction: DEFAULT_EXTRACTION } as RadscoreModel)).toEqual(defaultSettings());
    const shipped = loadModel(PAPER).extraction;
    expect({ ...shipped, roi: { ...shipped.roi, description: '' } }).toEqual({ ...DEFAULT_EXTRACTION, roi: { ...DEFAULT_EXTRACTION.roi, description: '' } });
  });

  it('the ROI the analysis measures is the model\'s; a config that disagrees is refused with both values', () => {
    const m = loadModel(PAPER);
    expect(roiSpecOf(m)).toEqual({ vertebrae: ['L1', 'L2', 'L3', 'L4'], slicesPerBody: 3, erosionMm: 1.5 });
    expect(roiSpecOf(m, 1.5)).toEqual(roiSpecOf(m));
    const other = { ...m, extraction: { ...m.extraction, roi: { ...m.extraction.roi, erosionMm: 1, slicesPerBody: 5 } } };
    expect(roiSpecOf(other)).toEqual({ vertebrae: ['L1', 'L2', 'L3', 'L4'], slicesPerBody: 5, erosionMm: 1 });
    expect(roiConfigConflict(m, undefined)).toBeNull();
    expect(roiConfigConflict(m, 2)).toMatch(/segmentation\.erosionMm is 2 mm but the radscore model paper-t1t2-radscore .* extraction\.roi\.erosionMm 1\.5 mm/);
    expect(() => roiSpecOf(m, 2)).toThrow(/erosionMm is 2 mm/);
  });
});
