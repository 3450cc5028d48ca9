import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSr, outputUids, COMPREHENSIVE_SR_SOP_CLASS } from '../../src/report/index.js';
import { readPart10, writePart10 } from '../../src/dicom/write.js';
import { formatDS } from '../../src/report/header.js';
import { scoreVsCutoff } from '../../src/report/numbers.js';
import { makeInput, OUT_OF_RANGE_MESSAGE, STUDY_UID, T1_SERIES, T2_SERIES, type Variant } from './inputs.js';
import { dciodvfy, dsrdump, KNOWN_PRIVATE_SCHEME_WARNING } from './tools.js';

const dir = mkdtempSync(join(tmpdir(), 'sr-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Depth-first list of all content items. */
function items(node: any): any[] {
  const out: any[] = [];
  for (const c of node.ContentSequence ?? []) out.push(c, ...items(c));
  return out;
}
const named = (all: any[], meaning: string) => all.filter((i) => i.ConceptNameCodeSequence?.[0]?.CodeMeaning === meaning);

describe.each<[Variant, string]>([
  ['scored', 'Abnormal bone mass not suspected'],
  ['uncalibrated', 'Radscore not interpretable until calibrated for this site'],
  ['out-of-range', "No flag: outside the model's calibrated range"],
  ['not-assessable', 'Not assessable'],
])('SR for a %s result', (variant, finding) => {
  const input = makeInput(variant);
  const file = join(dir, `sr-${variant}.dcm`);
  writePart10(buildSr(input), file);

  it('passes dciodvfy with no errors (only the known private-scheme warnings)', () => {
    const v = dciodvfy(file);
    expect(v.out).toContain('ComprehensiveSR');
    expect(v.errors, v.out).toEqual([]);
    expect(v.warnings.filter((w) => !KNOWN_PRIVATE_SCHEME_WARNING.test(w)), v.out).toEqual([]);
  });

  it('renders with dsrdump and states the result, the model, UNVERIFIED and the disclaimer', () => {
    const d = dsrdump(file);
    expect(d.status, d.out).toBe(0);
    expect(d.out).toContain('Comprehensive SR Document');
    expect(d.out).toContain('Verification Flag   : UNVERIFIED');
    expect(d.out).toContain(`<contains CODE:(,,"Finding")=(`);
    expect(d.out).toContain(`"${finding}")>`);
    expect(d.out).toContain('UNVERIFIED \u2014 research/screening use');
    expect(d.out).toContain('Screening support, not a diagnosis. Confirm with DXA.');
    expect(d.out).toContain('model paper-t1t2 1.0.0');
    expect(d.out).toContain('Imaging Measurement Report');
    const r = input.result;
    if (r.kind === 'scored') {
      const p = scoreVsCutoff(r.score, r.cutoff);
      expect(d.out).toContain(`<contains NUM:(,,"Radscore")="${p.score}" (1,UCUM,"no units")>`);
      expect(d.out).toContain(`<contains NUM:(,,"Radscore cut-off (abnormal if above)")="0.542"`);
      for (const t of r.terms) expect(d.out).toContain(`"${t.sequence} ${t.feature}"`);
    } else {
      expect(d.out).not.toContain('"Radscore"');
      expect(d.out).toContain(`<contains TEXT:(,,"Reason not assessable")="${r.reason}">`);
    }
    if (variant === 'out-of-range') expect(d.out).toContain(`<contains TEXT:(,,"Reason for no flag")="${OUT_OF_RANGE_MESSAGE}">`);
    if (variant === 'uncalibrated') expect(d.out).toContain('<contains TEXT:(,,"Reason for no flag")="radscore not interpretable until calibrated for this site');
    if (variant === 'uncalibrated' || variant === 'out-of-range') {
      // No verdict in words: neither finding text, and the cut-off is not applied.
      expect(d.out).not.toMatch(/"Abnormal bone mass (not )?suspected"/);
      expect(d.out).toContain('no flag; cut-off 0.542 not applied');
    }
    const warn = 'Warning: the model is not calibrated for this site';
    if (variant === 'uncalibrated') expect(d.out).toContain(warn);
    else expect(d.out).not.toContain(warn);
  });

  it('is in the source study, in the deterministic output series, with evidence references', () => {
    const ds = readPart10(readFileSync(file));
    const uids = outputUids(STUDY_UID, makeInput('scored').model, 'sr');
    expect(ds.SOPClassUID).toBe(COMPREHENSIVE_SR_SOP_CLASS);
    expect(ds.StudyInstanceUID).toBe(STUDY_UID);
    expect(ds.SeriesInstanceUID).toBe(uids.seriesInstanceUid);
    expect(ds.SOPInstanceUID).toBe(uids.instanceUid(1));
    expect(ds.PatientID).toBe('PHANTOM-001');
    expect(ds.AccessionNumber).toBe('ACC001');
    expect(ds.StudyDate).toBe('20260101');
    expect(ds.Modality).toBe('SR');
    expect(ds.VerificationFlag).toBe('UNVERIFIED');
    expect(ds.CompletionFlag).toBe('COMPLETE');
    expect(ds.ContentDate).toBe('20260102');
    expect(ds.ContentTime).toBe('030405');
    const ev = ds.CurrentRequestedProcedureEvidenceSequence[0];
    expect(ev.StudyInstanceUID).toBe(STUDY_UID);
    expect(ev.ReferencedSeriesSequence.map((s: any) => s.SeriesInstanceUID)).toEqual([T1_SERIES, T2_SERIES]);
    expect(ev.ReferencedSeriesSequence[0].ReferencedSOPSequence).toHaveLength(10);
    expect(ds.CodingSchemeIdentificationSequence[0].CodingSchemeDesignator).toBe('99OSTEO');
    expect(ds.ContentTemplateSequence[0].TemplateIdentifier).toBe('1500');

    const all = items(ds);
    // Every IMAGE reference in the tree is listed in the evidence sequence.
    const evidenceUids = new Set(ev.ReferencedSeriesSequence.flatMap((s: any) => s.ReferencedSOPSequence.map((r: any) => r.ReferencedSOPInstanceUID)));
    const images = all.filter((i) => i.ValueType === 'IMAGE');
    expect(images).toHaveLength(20);
    for (const i of images) expect(evidenceUids.has(i.ReferencedSOPSequence[0].ReferencedSOPInstanceUID)).toBe(true);
    // Observer context: a device.
    expect(named(all, 'Observer Type')[0].ConceptCodeSequence[0].CodeValue).toBe('121007');
    expect(named(all, 'Device Observer Name')[0].TextValue).toBe('OsteoScreen');
    // Levels with volumes and SNOMED vertebra codes.
    const vols = named(all, 'Volume');
    const levels = input.result.levels ?? [];
    // NumericValue rounded for people, FloatingPointValue exact for machines.
    expect(vols.map((v) => v.MeasuredValueSequence[0].NumericValue)).toEqual(levels.map((l) => Math.round(l.volumeMm3)));
    expect(vols.map((v) => v.MeasuredValueSequence[0].FloatingPointValue)).toEqual(levels.map((l) => l.volumeMm3));
    const sites = named(all, 'Finding Site').map((s) => s.ConceptCodeSequence[0].CodeValue);
    expect(sites).toContain('66794005'); // L1 vertebra
    if (input.result.kind === 'scored') {
      const r = input.result;
      const score = named(all, 'Radscore')[0].MeasuredValueSequence[0];
      expect(score.FloatingPointValue).toBeCloseTo(r.score, 12);
      const contributions = named(all, 'Contribution to radscore').map((c) => c.MeasuredValueSequence[0].FloatingPointValue);
      expect(contributions).toHaveLength(9);
      contributions.forEach((c, k) => expect(c).toBeCloseTo(r.terms[k]!.contribution, 12));
      expect(named(all, 'Algorithm Version')[0].TextValue).toBe('1.0.0');
      expect(named(all, 'Algorithm Parameters')[0].TextValue).toContain(input.model.hash);
    }
    // Private code values fit SH.
    for (const i of all) for (const c of [...(i.ConceptNameCodeSequence ?? []), ...(i.ConceptCodeSequence ?? [])]) expect(c.CodeValue.length).toBeLessThanOrEqual(16);
  });
});

describe('SR supersede rule', () => {
  it('a re-run with the same model keeps the series, gets a new instance, a higher InstanceNumber and lists its predecessor', () => {
    const first = buildSr(makeInput('scored'));
    const input = makeInput('scored', { revision: 2 });
    input.now = new Date(2026, 0, 3, 8, 0, 0);
    input.predecessors = [{ seriesInstanceUid: first.SeriesInstanceUID, sopInstanceUid: first.SOPInstanceUID, sopClassUid: first.SOPClassUID }];
    const second = buildSr(input);
    expect(second.SeriesInstanceUID).toBe(first.SeriesInstanceUID);
    expect(second.SOPInstanceUID).not.toBe(first.SOPInstanceUID);
    expect(second.InstanceNumber).toBe(2);
    expect(`${second.ContentDate}${second.ContentTime}` > `${first.ContentDate}${first.ContentTime}`).toBe(true);
    const file = join(dir, 'sr-rev2.dcm');
    writePart10(second, file);
    const v = dciodvfy(file);
    expect(v.errors, v.out).toEqual([]);
    const back = readPart10(readFileSync(file));
    expect(back.PredecessorDocumentsSequence[0].ReferencedSeriesSequence[0].ReferencedSOPSequence[0].ReferencedSOPInstanceUID).toBe(first.SOPInstanceUID);
  });

  it('a new model version writes a new series', () => {
    const a = buildSr(makeInput('scored'));
    const b = buildSr(makeInput('scored', { modelVersion: '2.0.0' }));
    expect(b.SeriesInstanceUID).not.toBe(a.SeriesInstanceUID);
    expect(b.StudyInstanceUID).toBe(a.StudyInstanceUID);
  });

  it('is deterministic: the same input gives the same dataset', () => {
    expect(JSON.stringify(buildSr(makeInput('uncalibrated')))).toBe(JSON.stringify(buildSr(makeInput('uncalibrated'))));
  });
});

describe('SR for a suspected result', () => {
  it('codes the finding as abnormal bone mass suspected', () => {
    const input = makeInput('scored');
    if (input.result.kind !== 'scored') throw new Error('fixture');
    input.result.score = 0.71;
    input.result.flag = true;
    const file = join(dir, 'sr-suspected.dcm');
    writePart10(buildSr(input), file);
    expect(dciodvfy(file).errors).toEqual([]);
    const d = dsrdump(file);
    expect(d.out).toContain('(OS-ABN-SUSP,99OSTEO,"Abnormal bone mass suspected")');
    expect(d.out).toContain('Abnormal bone mass suspected. Radscore 0.710 (cut-off: abnormal if > 0.542).');
  });

  it('a borderline score gets enough digits to read the comparison, and says it is just below the cut-off', () => {
    const input = makeInput('scored');
    if (input.result.kind !== 'scored') throw new Error('fixture');
    input.result.score = 0.52477;
    input.result.cutoff = 0.525;
    input.result.flag = false;
    const file = join(dir, 'sr-borderline.dcm');
    writePart10(buildSr(input), file);
    const d = dsrdump(file);
    expect(d.out).toContain('Abnormal bone mass not suspected. Radscore 0.5248, just below the cut-off (cut-off: abnormal if > 0.5250).');
    expect(d.out).toContain('<contains NUM:(,,"Radscore")="0.5248"');
    expect(d.out).toContain('<contains NUM:(,,"Radscore cut-off (abnormal if above)")="0.5250"');
    // No 12-digit numbers anywhere a person reads (NumericValue, text).
    const shown = [...d.out.matchAll(/NUM:\([^)]*\)="([^"]+)"/g)].map((m) => m[1]!);
    expect(shown.length).toBeGreaterThan(10);
    const significant = (v: string) => v.replace(/^-/, '').replace(/e.*$/i, '').replace('.', '').replace(/^0+/, '').length;
    for (const v of shown) expect(significant(v), v).toBeLessThanOrEqual(5);
    const ds = readPart10(readFileSync(file));
    const all = items(ds);
    const score = named(all, 'Radscore')[0].MeasuredValueSequence[0];
    expect(score.FloatingPointValue).toBe(0.52477);
  });
});

describe('SR edge cases', () => {
  it('not assessable with no levels and no evidence still validates and states the reason', () => {
    const input = makeInput('not-assessable');
    input.evidence = {};
    input.result = { kind: 'not-assessable', reason: 'no sagittal T1 series found' };
    const file = join(dir, 'sr-minimal.dcm');
    const ds = buildSr(input);
    expect(ds.CurrentRequestedProcedureEvidenceSequence).toBeUndefined();
    writePart10(ds, file);
    const v = dciodvfy(file);
    expect(v.errors, v.out).toEqual([]);
    expect(dsrdump(file).out).toContain('"Reason not assessable")="no sagittal T1 series found"');
  });

  it('refuses a non-finite score instead of writing a broken number', () => {
    const input = makeInput('scored');
    if (input.result.kind !== 'scored') throw new Error('fixture');
    input.result.score = Number.NaN;
    expect(() => buildSr(input)).toThrow(/NaN/);
  });

  it('formats DS values within 16 characters', () => {
    for (const x of [0, 1, -1, 0.1 + 0.2, 1 / 3, -2 / 3, 1e-12, -1.234567890123e-7, 123456789012345.6, 1e21, -9.87654321e300]) {
      const s = formatDS(x);
      expect(s.length, s).toBeLessThanOrEqual(16);
      expect(Math.abs(Number(s) - x)).toBeLessThanOrEqual(Math.abs(x) * 1e-6);
    }
  });
});
