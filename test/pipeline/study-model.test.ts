/**
 * The study model and the analysis stages that need no segmentation model: headers are parsed once and carried
 * (select, source header, SR evidence and SEG slice instances work with the files gone), the SEG's slice
 * instances are in the volume's k order, and unreadable series are skipped with a reason.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writePhantomStudies, type StudyManifest } from '../../src/phantom/index.js';
import { loadSeriesVolume } from '../../src/dicom/volume.js';
import { DEFAULT_SELECTION_RULES } from '../../src/pipeline/selection.js';
import { buildStudyModel } from '../../src/pipeline/study-model.js';
import { selectStage, studySource } from '../../src/pipeline/stages/select.js';
import { buildVolumes } from '../../src/pipeline/stages/volumes.js';
import { reportInputOf, segInputOf } from '../../src/pipeline/stages/report.js';
import type { RadscoreModel } from '../../src/model/index.js';
import { dot, sliceNormal } from '../../src/volume/geometry.js';
import type { LabelMap } from '../../src/volume/types.js';

describe('study model and stages', () => {
  let root: string;
  let m: StudyManifest;
  const series = () => m.series.map((s) => ({ seriesUid: s.seriesInstanceUID, files: s.files.map((f) => join(root, f)) }));
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'study-model-'));
    [m] = writePhantomStudies({ out: root, seed: 4242, count: 1, subSamples: 1 }) as [StudyManifest];
  }, 120_000);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('selects from headers parsed once; source, evidence and SEG slices need no file again', () => {
    const study = buildStudyModel(m.studyInstanceUID, series());
    const sel = selectStage(study, DEFAULT_SELECTION_RULES);
    const want = (role: string) => m.series.find((s) => s.expectedSelection === role)!.seriesInstanceUID;
    expect(sel.reason).toBeNull();
    expect(sel.record.t1).toBe(want('t1'));
    expect(sel.record.t2).toBe(want('t2'));
    expect(sel.record.skipped.length).toBe(m.series.length - 2);
    expect(sel.anyMr).toBe(true);
    const t1 = sel.t1!;
    expect(t1.instances.map((h) => h.file)).toEqual(t1.files);

    // Move the files away: everything but the pixel data comes from the model.
    const moved = join(root, '..', `${root.split('/').pop()}-moved`);
    renameSync(root, moved);
    try {
      const source = studySource(study, sel)!;
      expect(source.header.StudyInstanceUID).toBe(m.studyInstanceUID);
      expect(source.header.SeriesInstanceUID).toBe(t1.seriesUid);
      expect(source.scanner.manufacturer).not.toBe('');
      const model = { name: 'm', version: '1', hash: 'h', calibrated: false } as RadscoreModel;
      const report = reportInputOf({ studyUid: m.studyInstanceUID, algorithmVersion: 'test', source, selection: sel, model, modelChoice: null, reason: 'x' });
      expect(report.evidence.t1!.instances.map((i) => i.sopInstanceUid)).toEqual(t1.instances.map((h) => h.sopInstanceUID));
      expect(report.evidence.t2!.seriesInstanceUid).toBe(sel.record.t2);
      expect(report.result).toEqual({ kind: 'not-assessable', reason: 'x', levels: undefined });
      const n = t1.files.length;
      const roi = { dims: [4, 4, n], data: new Uint8Array(16 * n) } as unknown as LabelMap;
      const seg = segInputOf(t1, roi)!;
      expect(seg.sliceInstances).toHaveLength(n);
      expect(seg.sourceSeriesInstanceUid).toBe(t1.seriesUid);
      // along the slice normal, ascending
      const bySop = new Map(t1.instances.map((h) => [h.sopInstanceUID, h]));
      const ori = t1.instances[0]!.frames[0]!.orientation!;
      const nrm = sliceNormal(ori.slice(0, 3), ori.slice(3, 6))!;
      const s = seg.sliceInstances.map((i) => dot(nrm, bySop.get(i.sopInstanceUid)!.frames[0]!.position!));
      for (let k = 1; k < s.length; k++) expect(s[k]!).toBeGreaterThan(s[k - 1]!);
    } finally {
      renameSync(moved, root);
    }
  });

  it("the SEG's first slice instance is the volume's origin slice", async () => {
    const study = buildStudyModel(m.studyInstanceUID, series());
    const sel = selectStage(study, DEFAULT_SELECTION_RULES);
    const v = await buildVolumes(sel);
    if ('reason' in v) throw new Error(v.reason);
    const roi: LabelMap = { ...v.t1, data: new Uint8Array(v.t1.data.length) };
    const seg = segInputOf(sel.t1!, roi)!;
    const first = sel.t1!.instances.find((h) => h.sopInstanceUID === seg.sliceInstances[0]!.sopInstanceUid)!;
    expect(first.frames[0]!.position).toEqual(v.t1.origin);
    expect((await loadSeriesVolume(sel.t1!.files)).origin).toEqual(v.t1.origin);
  });

  it('an unreadable file skips its series with the reason; a study without files has no source', () => {
    const bad = join(root, 'not-dicom.dcm');
    writeFileSync(bad, Buffer.alloc(300, 7));
    const list = series();
    const t2 = list.find((s) => s.seriesUid === m.series.find((x) => x.expectedSelection === 't2')!.seriesInstanceUID)!;
    t2.files = [...t2.files, bad];
    const sel = selectStage(buildStudyModel(m.studyInstanceUID, list), DEFAULT_SELECTION_RULES);
    expect(sel.record.t2).toBeNull();
    expect(sel.reason).toBe('no sagittal T2');
    expect(sel.record.skipped[0]).toEqual({ series: t2.seriesUid, reason: expect.stringMatching(/^unreadable header: not a readable DICOM Part-10 file/) });
    const empty = buildStudyModel('1.2.3', [{ seriesUid: '1.2.3.4', files: [] }]);
    const none = selectStage(empty, DEFAULT_SELECTION_RULES);
    expect(none.record.skipped).toEqual([{ series: '1.2.3.4', reason: 'unreadable header: series has no files' }]);
    expect(studySource(empty, none)).toBeNull();
  });
});
