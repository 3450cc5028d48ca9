import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { writeReportFiles } from '../../src/report/index.js';
import { readPart10 } from '../../src/dicom/write.js';
import { deterministicUid } from '../../src/dicom/uid.js';
import { makeInput, MR_STORAGE, T1_SERIES } from './inputs.js';
import { dciodvfy, dsrdump } from './tools.js';

const dir = mkdtempSync(join(tmpdir(), 'files-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writeReportFiles', () => {
  it('writes SR, summary and SEG in send order, all valid', () => {
    const input = makeInput('scored');
    const data = new Uint8Array(20 * 20 * 3);
    for (let j = 5; j < 15; j++) for (let i = 5; i < 15; i++) data[i + j * 20 + 400] = 2;
    const out = writeReportFiles(input, join(dir, 'a'), {
      previewPng: true,
      seg: {
        labels: { dims: [20, 20, 3], spacing: [1, 1, 5], origin: [0, 0, 0], direction: [0, 0, 1, 1, 0, 0, 0, -1, 0], data },
        frameOfReferenceUid: deterministicUid('for'),
        sliceInstances: [1, 2, 3].map((k) => ({ sopClassUid: MR_STORAGE, sopInstanceUid: deterministicUid(T1_SERIES, 'inst', k) })),
        sourceSeriesInstanceUid: T1_SERIES,
      },
    });
    expect(out.files.map((f) => f.kind)).toEqual(['sr', 'summary', 'seg']);
    for (const f of out.files) {
      expect(basename(f.path)).toBe(`${f.kind}-${f.sopInstanceUid}.dcm`);
      const v = dciodvfy(f.path);
      expect(v.errors, v.out).toEqual([]);
      const ds = readPart10(readFileSync(f.path));
      expect(ds.SOPInstanceUID).toBe(f.sopInstanceUid);
      expect(ds.SeriesInstanceUID).toBe(f.seriesInstanceUid);
      expect(ds.SOPClassUID).toBe(f.sopClassUid);
    }
    expect(new Set(out.files.map((f) => f.seriesInstanceUid)).size).toBe(3);
    expect(existsSync(out.previewPng!)).toBe(true);
  });

  it('skips the SEG when not asked for, and accepts a plain-string PatientName', () => {
    const input = makeInput('not-assessable');
    input.source.PatientName = 'Doe^Jane';
    const out = writeReportFiles(input, join(dir, 'b'));
    expect(out.files.map((f) => f.kind)).toEqual(['sr', 'summary']);
    expect(out.previewPng).toBeUndefined();
    const d = dsrdump(out.files[0]!.path);
    expect(d.out).toContain('Doe^Jane');
    expect(readPart10(readFileSync(out.files[1]!.path)).PatientName).toEqual([{ Alphabetic: 'Doe^Jane' }]);
  });
});
