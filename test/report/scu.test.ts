import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { echo, sendFiles } from '../../src/dicom/scu.js';
import { readPart10, writePart10 } from '../../src/dicom/write.js';
import { buildSeg, buildSr, buildSummaryImage, type ReportInput } from '../../src/report/index.js';
import { startOrthanc, type OrthancHandle } from '../helpers/orthanc.js';
import { freePort } from '../helpers/ports.js';
import { writeMrSeries } from '../helpers/mr.js';
import { makeInput } from './inputs.js';

const dir = mkdtempSync(join(tmpdir(), 'scu-test-'));
let orthanc: OrthancHandle;

beforeAll(async () => {
  orthanc = await startOrthanc();
});
afterAll(async () => {
  await orthanc?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const dest = () => ({ aeTitle: orthanc.aet, host: '127.0.0.1', port: orthanc.dicomPort, callingAeTitle: 'OSTEOSCREEN' });

describe('SCU against a real Orthanc', () => {
  it('C-ECHO succeeds', async () => {
    const r = await echo(dest());
    expect(r, JSON.stringify(r)).toMatchObject({ ok: true, status: 0 });
  });

  it('sends the source series, then the SR, summary image and SEG, which land in the same study', async () => {
    const t1 = writeMrSeries(join(dir, 't1'), { count: 3, tr: 450, te: 9.6, description: 'sag T1' });
    const src = await sendFiles(dest(), t1.files);
    expect(src.every((r) => r.ok), JSON.stringify(src)).toBe(true);

    const input: ReportInput = makeInput('uncalibrated');
    // As in the pipeline: the patient/study header comes from a received T1 instance.
    const header = readPart10(readFileSync(t1.files[0]!));
    input.source = header as ReportInput['source'];
    input.evidence = {
      t1: { seriesInstanceUid: t1.seriesUid, instances: t1.sopUids.map((u) => ({ sopClassUid: '1.2.840.10008.5.1.4.1.1.4', sopInstanceUid: u })) },
    };
    input.summary!.sourceInstance = { sopClassUid: '1.2.840.10008.5.1.4.1.1.4', sopInstanceUid: t1.sopUids[1]!, seriesInstanceUid: t1.seriesUid };
    const sr = buildSr(input);
    const sc = buildSummaryImage(input);
    // A SEG on the T1 grid (16 x 16 x 3): label 1 on the middle slice.
    const data = new Uint8Array(16 * 16 * 3);
    for (let j = 4; j < 10; j++) for (let i = 3; i < 12; i++) data[i + j * 16 + 16 * 16] = 1;
    const seg = buildSeg(input, {
      labels: { dims: [16, 16, 3], spacing: [1, 1, 5], origin: [0, 0, 0], direction: [0, 0, 1, 1, 0, 0, 0, -1, 0], data },
      frameOfReferenceUid: header.FrameOfReferenceUID ?? '1.2.3.4',
      sliceInstances: t1.sopUids.map((u) => ({ sopClassUid: '1.2.840.10008.5.1.4.1.1.4', sopInstanceUid: u })),
      sourceSeriesInstanceUid: t1.seriesUid,
    })!;
    const files = [writePart10(sr, join(dir, 'sr.dcm')), writePart10(sc, join(dir, 'sc.dcm')), writePart10(seg, join(dir, 'seg.dcm'))];
    const res = await sendFiles(dest(), files, { timeoutMs: 20_000 });
    expect(res.map((r) => r.file)).toEqual(files);
    expect(res.every((r) => r.ok && r.status === 0), JSON.stringify(res)).toBe(true);

    const studies: string[] = await orthanc.rest('/studies');
    expect(studies).toHaveLength(1);
    const study = await orthanc.rest(`/studies/${studies[0]}`);
    expect(study.MainDicomTags.StudyInstanceUID).toBe(t1.studyUid);
    expect(study.Series).toHaveLength(4);
    const instances: string[] = await orthanc.rest('/instances');
    expect(instances).toHaveLength(6);
    const bySop = new Map<string, any>();
    for (const id of instances) {
      const tags = await orthanc.rest(`/instances/${id}/simplified-tags`);
      bySop.set(tags.SOPInstanceUID, tags);
    }
    const srTags = bySop.get(sr.SOPInstanceUID);
    const scTags = bySop.get(sc.SOPInstanceUID);
    expect(srTags).toBeDefined();
    expect(scTags).toBeDefined();
    for (const t of [srTags, scTags]) {
      expect(t.StudyInstanceUID).toBe(t1.studyUid);
      expect(t.PatientID).toBe(header.PatientID);
      expect(t.PatientName).toBe(header.PatientName?.[0]?.Alphabetic ?? header.PatientName);
    }
    expect(srTags.Modality).toBe('SR');
    expect(srTags.VerificationFlag).toBe('UNVERIFIED');
    expect(srTags.SeriesInstanceUID).toBe(sr.SeriesInstanceUID);
    expect(scTags.SeriesInstanceUID).toBe(sc.SeriesInstanceUID);
    expect(Number(scTags.Rows)).toBe(sc.Rows);
    expect(bySop.get(seg.SOPInstanceUID)?.Modality).toBe('SEG');
    // Re-sending the same files (outbox retry) is harmless: still 6 instances.
    const again = await sendFiles(dest(), files);
    expect(again.every((r) => r.ok), JSON.stringify(again)).toBe(true);
    expect(await orthanc.rest('/instances')).toHaveLength(6);
  });

  it('reports a missing or non-DICOM file per file without failing the others', async () => {
    const junk = join(dir, 'junk.dcm');
    writeFileSync(junk, 'not dicom at all');
    const good = writePart10(buildSr(makeInput('scored')), join(dir, 'sr2.dcm'));
    const res = await sendFiles(dest(), [join(dir, 'missing.dcm'), junk, good]);
    expect(res[0]).toMatchObject({ ok: false, error: 'file not found', retryable: false });
    expect(res[1]!.ok).toBe(false);
    expect(res[1]!.retryable).toBe(false);
    expect(res[1]!.error).toMatch(/cannot read DICOM file/);
    expect(res[2], JSON.stringify(res[2])).toMatchObject({ ok: true, status: 0 });
  });
});

describe('SCU against a closed port', () => {
  it('returns a clear, retryable connection error for every file, quickly', async () => {
    const port = await freePort();
    const files = [writePart10(buildSr(makeInput('scored')), join(dir, 'closed.dcm'))];
    const t0 = Date.now();
    const res = await sendFiles({ aeTitle: 'NOBODY', host: '127.0.0.1', port, callingAeTitle: 'OSTEOSCREEN' }, files, { timeoutMs: 5_000 });
    expect(res).toHaveLength(1);
    expect(res[0]!.ok).toBe(false);
    expect(res[0]!.retryable).toBe(true);
    expect(res[0]!.error).toMatch(/ECONNREFUSED/);
    expect(res[0]!.error).toContain(`NOBODY@127.0.0.1:${port}`);
    expect(Date.now() - t0).toBeLessThan(5_000);
    const e = await echo({ aeTitle: 'NOBODY', host: '127.0.0.1', port, callingAeTitle: 'OSTEOSCREEN' }, { timeoutMs: 5_000 });
    expect(e.ok).toBe(false);
    expect(e.error).toMatch(/ECONNREFUSED/);
  });
});
