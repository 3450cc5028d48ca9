/** Parallel extraction over worker threads gives exactly the sequential result (values and key order). */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultSettings, extractFeatures, RoiError } from '../../src/radiomics/index.js';
import { createRadiomicsPool, splitJobs } from '../../src/radiomics/parallel.js';
import { readNrrdImage, readNrrdMask } from '../../src/volume/nrrd.js';
import { BASE } from './baseline-data.js';

const img = readNrrdImage(join(BASE, 'data', 'brain2_image.nrrd'));
const mask = readNrrdMask(join(BASE, 'data', 'brain2_label.nrrd'));
const pool = createRadiomicsPool({ workers: 2 });
afterAll(() => pool.close());

describe('parallel extraction', () => {
  it('splits the reference settings into one job per filter output group, shape only in the first', () => {
    const jobs = splitJobs(defaultSettings());
    expect(jobs.map((j) => Object.keys(j.imageType)[0])).toEqual(['Original', 'LoG', 'LoG', 'LoG', 'LoG', 'LoG', 'Wavelet', 'BoxSigmaImage', 'AdditiveGaussianNoise']);
    expect(jobs.filter((j) => 'shape' in j.featureClass)).toHaveLength(1);
    expect(splitJobs(defaultSettings(), ['log-sigma-4-0-mm-3D_firstorder_Median']).map((j) => j.imageType)).toEqual([{ LoG: { sigma: [4] } }]);
  });

  it('equals the sequential result exactly', async () => {
    const s = defaultSettings();
    const seq = extractFeatures(img, mask, s);
    const par = await pool.extract(img, mask, s);
    expect(Object.keys(par.features)).toEqual(Object.keys(seq.features));
    for (const k of Object.keys(seq.features)) expect(par.features[k], k).toBe(seq.features[k]);
    expect(par.diagnostics['diagnostics_Mask-original_Hash']).toBe(seq.diagnostics['diagnostics_Mask-original_Hash']);
  }, 120_000);

  it('equals the sequential result with resampling and resegmentation (ROI prepared once)', async () => {
    const base = defaultSettings();
    const s = {
      ...base,
      imageType: { Original: {}, LoG: { sigma: [2, 3] }, BoxSigmaImage: { radius: 1 } },
      setting: { ...base.setting, resampledPixelSpacing: [1.5, 1.5, 2], interpolator: 'Linear' as const, resegmentRange: [-2, 2], resegmentMode: 'sigma' as const },
    };
    const seq = extractFeatures(img, mask, s);
    const par = await pool.extract(img, mask, s);
    expect(Object.keys(par.features)).toEqual(Object.keys(seq.features));
    for (const k of Object.keys(seq.features)) expect(par.features[k], k).toBe(seq.features[k]);
    expect(par.diagnostics['diagnostics_Mask-resegmented_VoxelNum']).toBe(seq.diagnostics['diagnostics_Mask-resegmented_VoxelNum']);
  }, 120_000);

  it('propagates ROI errors from the workers', async () => {
    const s = { ...defaultSettings(), setting: { ...defaultSettings().setting, label: 9 } };
    await expect(pool.extract(img, mask, s)).rejects.toBeInstanceOf(RoiError);
  }, 60_000);
});
