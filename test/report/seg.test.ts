import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSeg, outputUids, SEGMENTATION_SOP_CLASS, type SegInput } from '../../src/report/index.js';
import { readPart10, writePart10 } from '../../src/dicom/write.js';
import { deterministicUid } from '../../src/dicom/uid.js';
import { makeInput, MR_STORAGE, STUDY_UID, T1_SERIES } from './inputs.js';
import { dciodvfy } from './tools.js';
import type { Mat3, Vec3 } from '../../src/volume/types.js';

const dir = mkdtempSync(join(tmpdir(), 'seg-test-'));
afterAll(() => (process.env.KEEP_TEST_FILES ? undefined : rmSync(dir, { recursive: true, force: true })));

/** Sagittal grid: i → posterior, j → feet, k → left. Labels 1..3 on slices 1..3, label 4 on slice 2 only. */
function segInput(): SegInput {
  const dims: Vec3 = [37, 45, 5];
  const data = new Uint8Array(dims[0] * dims[1] * dims[2]);
  const set = (i: number, j: number, k: number, l: number) => (data[i + j * dims[0] + k * dims[0] * dims[1]] = l);
  for (let k = 1; k <= 3; k++)
    for (let l = 1; l <= 4; l++) {
      if (l === 4 && k !== 2) continue;
      for (let j = 2 + (l - 1) * 10; j < 9 + (l - 1) * 10; j++) for (let i = 10 + k; i < 25; i++) set(i, j, k, l);
    }
  const direction: Mat3 = [0, 0, 1, 1, 0, 0, 0, -1, 0];
  return {
    labels: { dims, spacing: [0.9, 1.1, 5.5], origin: [-12, -80, 60], direction, data },
    frameOfReferenceUid: deterministicUid('for', 'seg-test'),
    sliceInstances: Array.from({ length: dims[2] }, (_, k) => ({ sopClassUid: MR_STORAGE, sopInstanceUid: deterministicUid(T1_SERIES, 'inst', k + 1) })),
    sourceSeriesInstanceUid: T1_SERIES,
  };
}

describe('DICOM SEG of the ROI', () => {
  const seg = segInput();
  const ds = buildSeg(makeInput('scored'), seg)!;
  const file = join(dir, 'seg.dcm');
  writePart10(ds, file);

  it('passes dciodvfy with no errors', () => {
    const v = dciodvfy(file);
    expect(v.out).toContain('Segmentation');
    expect(v.errors, v.out).toEqual([]);
  });

  it('has one segment per label and one frame per (segment, slice), in the source study and its own series', () => {
    const back = readPart10(readFileSync(file));
    expect(back.SOPClassUID).toBe(SEGMENTATION_SOP_CLASS);
    expect(back.StudyInstanceUID).toBe(STUDY_UID);
    expect(back.SeriesInstanceUID).toBe(outputUids(STUDY_UID, makeInput('scored').model, 'seg').seriesInstanceUid);
    expect(back.SegmentSequence.map((s: any) => s.SegmentLabel)).toEqual(['L1 vertebral body', 'L2 vertebral body', 'L3 vertebral body', 'L4 vertebral body']);
    expect(back.SegmentSequence[0].SegmentedPropertyTypeCodeSequence[0].CodeValue).toBe('66794005');
    expect(back.NumberOfFrames).toBe(3 + 3 + 3 + 1);
    const orient = back.SharedFunctionalGroupsSequence[0].PlaneOrientationSequence[0].ImageOrientationPatient;
    expect(orient).toEqual([0, 1, 0, 0, 0, -1]);
    const ps = back.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0].PixelSpacing;
    expect(ps).toEqual([1.1, 0.9]);
  });

  it('frames unpack to exactly the label map', () => {
    const back = readPart10(readFileSync(file));
    const bits = new Uint8Array(back.PixelData[0]);
    const [cols, rows] = seg.labels.dims;
    const plane = cols * rows;
    back.PerFrameFunctionalGroupsSequence.forEach((f: any, fi: number) => {
      const segment = f.SegmentIdentificationSequence[0].ReferencedSegmentNumber;
      const label = segment; // labels 1..4 are present, so segment n == label n
      const pos = f.PlanePositionSequence[0].ImagePositionPatient;
      // slice k from the position along the slice axis (+x, 5.5 mm from x = -12)
      const k = Math.round((pos[0] - -12) / 5.5);
      expect(f.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID).toBe(seg.sliceInstances[k]!.sopInstanceUid);
      let mismatches = 0;
      let ones = 0;
      for (let p = 0; p < plane; p++) {
        const b = fi * plane + p;
        const bit = (bits[b >> 3]! >> (b & 7)) & 1;
        const want = seg.labels.data[k * plane + p] === label ? 1 : 0;
        ones += bit;
        if (bit !== want) mismatches++;
      }
      expect(mismatches).toBe(0);
      expect(ones).toBeGreaterThan(0);
    });
  });

  it('returns null for an empty label map', () => {
    const empty = segInput();
    empty.labels.data.fill(0);
    expect(buildSeg(makeInput('scored'), empty)).toBeNull();
  });
});
