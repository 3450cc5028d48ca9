import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/common/csv.js';
import { syntheticNoiseFeature } from '../../src/model/synthetic.js';
import { DEFAULT_EXTRACTION, parseFeatureTable, parseLabels, labelsCsv, syntheticCohort, trainModel } from '../../src/model/index.js';

describe('feature tables', () => {
  it('parses RFC 4180 CSV (quotes, doubled quotes, CRLF, BOM) and missing values', () => {
    expect(parseCsv('\ufeffa,"b,c","d""e"\r\n1,,"x\ny"\n')).toEqual([
      ['a', 'b,c', 'd"e'],
      ['1', '', 'x\ny'],
    ]);
    const t = parseFeatureTable('id,T1_original_shape_VoxelVolume,T2_original_firstorder_Mean,other\ns1,1.5,NA,z\ns2,,NaN,z\ns3,2e3,-4,z\n');
    expect(t.columns).toEqual(['T1_original_shape_VoxelVolume', 'T2_original_firstorder_Mean']);
    expect(t.values).toEqual([
      [1.5, null],
      [null, null],
      [2000, -4],
    ]);
  });

  it('rejects tables without id, with duplicate ids or ragged rows, naming the problem', () => {
    expect(() => parseFeatureTable('x,T1_original_shape_VoxelVolume\n1,2\n')).toThrow(/no "id" column/);
    expect(() => parseFeatureTable('id,T1_original_shape_VoxelVolume\na,1\na,2\n')).toThrow(/duplicate id "a"/);
    expect(() => parseFeatureTable('id,T1_original_shape_VoxelVolume\na,1,3\n')).toThrow(/row 2 has 3 fields/);
    expect(() => parseFeatureTable('id,foo\na,1\n')).toThrow(/no feature columns prefixed T1_ or T2_/);
  });
});

describe('training with missing values', () => {
  it('drops features missing in training rows; a validation row missing a model term is counted not assessable', () => {
    const c = syntheticCohort({ seed: 9, noise: 10 });
    const labels = parseLabels(labelsCsv(c.labels));
    const opts = { seed: 4, split: { kind: 'random' as const, fraction: 0.7 }, lambdaRule: 'min' as const, family: 'gaussian' as const, nfolds: 10, nlambda: 30, iccThreshold: 0.75, name: 'x', version: '1.0.0', extraction: DEFAULT_EXTRACTION, software: 't' };
    const first = trainModel(c.features, labels, opts);
    const trainId = Object.entries(first.split).find(([, v]) => v === 'training')![0];
    const valId = Object.entries(first.split).find(([, v]) => v === 'validation')![0];
    const holeCol = c.features.columns.indexOf(`T1_${syntheticNoiseFeature(3)}`);
    const term = first.model.terms[0]!;
    const termCol = c.features.columns.indexOf(`${term.sequence}_${term.feature}`);
    const values = c.features.values.map((r) => [...r]);
    values[c.features.ids.indexOf(trainId)]![holeCol] = null;
    values[c.features.ids.indexOf(valId)]![termCol] = null;
    const res = trainModel({ ...c.features, values }, labels, opts);
    expect(res.filter.missingInTraining).toEqual([`T1_${syntheticNoiseFeature(3)}`]);
    expect(res.model.terms.some((t) => t.feature === syntheticNoiseFeature(3) && t.sequence === 'T1')).toBe(false);
    const val = res.cohorts.find((x) => x.name === 'validation')!;
    expect(res.model.terms.some((t) => `${t.sequence}_${t.feature}` === `${term.sequence}_${term.feature}`)).toBe(true);
    expect(val.notAssessable.map((n) => n.id)).toEqual([valId]);
    expect(val.notAssessable[0]!.reason).toContain(term.feature);
    expect(val.metrics.combined!.n).toBe(47);
    expect(val.metrics.combined!.not_assessable).toBe(1);
  });
});
