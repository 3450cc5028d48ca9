/** `osteoscreen features` CLI: single case CSV/JSON, NIfTI input, batch CSV, usage errors. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { featuresCommand } from '../../src/radiomics/command.js';
import { parseCsv } from '../../src/common/csv.js';
import { writeNifti } from '../../src/volume/nifti.js';
import { readNrrd } from '../../src/volume/nrrd.js';
import { BASE, referenceJson } from './baseline-data.js';

const tmp = mkdtempSync(join(tmpdir(), 'osteo-features-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const img = join(BASE, 'data', 'brain2_image.nrrd');
const msk = join(BASE, 'data', 'brain2_label.nrrd');
const ref = referenceJson('brain2');
const params = join(tmp, 'params.yaml');
writeFileSync(params, 'imageType:\n  Original: {}\nfeatureClass:\n  shape:\n  firstorder:\n  glcm:\nsetting:\n  binWidth: 25\n  label: 1\n');

function readCsv(p: string): Record<string, string>[] {
  const [h, ...rows] = parseCsv(readFileSync(p, 'utf8'));
  return rows.map((c) => Object.fromEntries(h!.map((k, i) => [k, c[i]!])));
}

function close(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 || Math.abs(a - b) / Math.abs(b) <= 1e-6;
}

describe('osteoscreen features', () => {
  it('writes one CSV row with PyRadiomics column names', async () => {
    const out = join(tmp, 'one.csv');
    expect(await featuresCommand.run(['--image', img, '--mask', msk, '--params', params, '--out', out])).toBe(0);
    const rows = readCsv(out);
    expect(rows).toHaveLength(1);
    const r = rows[0]!;
    expect(r.Image).toBe(img);
    expect(r['diagnostics_Mask-original_VoxelNum']).toBe('453');
    const feats = Object.keys(r).filter((k) => k.startsWith('original_'));
    expect(feats).toHaveLength(14 + 18 + 24);
    for (const k of feats) expect(close(Number(r[k]), ref[k]!), k).toBe(true);
  });

  it('prints JSON {features, diagnostics} and reads NIfTI', async () => {
    const vol = readNrrd(img);
    const lab = readNrrd(msk);
    const ni = join(tmp, 'img.nii.gz');
    const nm = join(tmp, 'lab.nii');
    writeNifti(ni, { ...vol.geometry, data: vol.data });
    writeNifti(nm, { ...lab.geometry, data: lab.data });
    const out = join(tmp, 'one.json');
    expect(await featuresCommand.run(['--image', ni, '--mask', nm, '--params', params, '--format', 'json', '--out', out, '--only', 'original_glcm_Idmn,original_shape_Sphericity'])).toBe(0);
    const j = JSON.parse(readFileSync(out, 'utf8'));
    expect(Object.keys(j.features).sort()).toEqual(['original_glcm_Idmn', 'original_shape_Sphericity']);
    expect(close(j.features.original_glcm_Idmn, ref.original_glcm_Idmn!)).toBe(true);
    expect(j.diagnostics['diagnostics_Mask-original_VoxelNum']).toBe(453);
  });

  it('batch mode: Image,Mask[,Label] CSV, relative paths, extra columns copied, failed cases reported', async () => {
    const batch = join(tmp, 'cases.csv');
    writeFileSync(
      batch,
      `ID,Image,Mask,Label\nA,${img},${msk},1\nB,${join(BASE, 'data', 'breast1_image.nrrd')},${join(BASE, 'data', 'breast1_label.nrrd')},1\nC,missing.nrrd,${msk},1\n`,
    );
    const out = join(tmp, 'batch.csv');
    expect(await featuresCommand.run(['--batch', batch, '--params', params, '--out', out, '--no-diagnostics'])).toBe(1);
    const rows = readCsv(out);
    expect(rows.map((r) => r.ID)).toEqual(['A', 'B']);
    expect(Object.keys(rows[0]!).some((k) => k.startsWith('diagnostics_'))).toBe(false);
    const refB = referenceJson('breast1');
    expect(close(Number(rows[1]!.original_firstorder_Mean), refB.original_firstorder_Mean!)).toBe(true);
  });

  it('reads a DICOM series folder (phantom T1) with a NIfTI label map', async () => {
    const { generateStudy, writeStudy } = await import('../../src/phantom/index.js');
    const { extractFeatures, loadParams } = await import('../../src/radiomics/index.js');
    const study = generateStudy({ seed: 3, roles: ['t1'] });
    const m = writeStudy(study, tmp, 'study');
    const s = m.series.find((x) => x.role === 't1')!;
    const p = join(tmp, 'p2.yaml');
    writeFileSync(p, 'imageType:\n  Original: {}\nfeatureClass:\n  firstorder:\n  shape:\nsetting:\n  label: 2\n  geometryTolerance: 0.001\n');
    const out = join(tmp, 'dicom.json');
    const code = await featuresCommand.run(['--image', join(tmp, s.dir), '--mask', join(tmp, s.truth.levels!), '--params', p, '--format', 'json', '--out', out]);
    expect(code).toBe(0);
    const j = JSON.parse(readFileSync(out, 'utf8'));
    // the same computation on the in-memory phantom series
    const ser = study.series.find((x) => x.role === 't1')!;
    const mem = extractFeatures({ ...ser.geometry!, data: Float64Array.from(ser.image), pixelType: 'float32' }, { ...ser.geometry!, data: ser.levels }, loadParams(p));
    expect(j.features.original_shape_VoxelVolume).toBeGreaterThan(1000);
    for (const [k, v] of Object.entries(mem.features)) expect(close(j.features[k], v as number), k).toBe(true);
  }, 60_000);

  it('usage errors exit with 2', async () => {
    expect(await featuresCommand.run(['--image', img])).toBe(2);
    expect(await featuresCommand.run(['--image', img, '--mask', msk, '--format', 'xml'])).toBe(2);
    expect(await featuresCommand.run(['--bogus'])).toBe(2);
  });
});

describe('osteoscreen features --docs', () => {
  it('prints a markdown reference with every feature and setting', async () => {
    const { featureDocsMarkdown, settingsDocsMarkdown, FEATURE_CLASSES } = await import('../../src/radiomics/index.js');
    const md = featureDocsMarkdown();
    for (const def of Object.values(FEATURE_CLASSES)) for (const n of Object.keys(def.features)) expect(md).toContain(`| ${n} |`);
    expect(settingsDocsMarkdown()).toContain('| binWidth | 25 |');
  });
});
