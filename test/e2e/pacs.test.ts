/**
 * Scanner -> OsteoScreen -> PACS, with real processes: a phantom study is sent with storescu to the service,
 * which segments, scores and sends a DICOM SR + summary image to a real Orthanc (the PACS), into the same study.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import dcmjs from 'dcmjs';
import { startService, type RunningService } from '../helpers/service.js';
import { startOrthanc, type OrthancHandle } from '../helpers/orthanc.js';
import { storescu } from '../helpers/dcmtk.js';
import { waitFor } from '../helpers/ports.js';
import { writePhantomStudies } from '../../src/phantom/index.js';
import { loadConfig, resolveInstallPath } from '../../src/config/index.js';
import { loadModel } from '../../src/model/index.js';
import { Segmenter } from '../../src/segmentation/index.js';
import { analyseStudy } from '../../src/pipeline/analyse.js';
import { filesUnder } from '../helpers/files.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'osteo-e2e-'));
const SR_CLASS = '1.2.840.10008.5.1.4.1.1.88.33';
const SC_CLASS = '1.2.840.10008.5.1.4.1.1.7';


/** Find a numeric content item by concept meaning anywhere in an SR content tree. */
function findNum(items: any[] | undefined, meaning: RegExp): number | undefined {
  for (const it of items ?? []) {
    const name = it.ConceptNameCodeSequence?.[0]?.CodeMeaning ?? it.ConceptNameCodeSequence?.CodeMeaning;
    if (it.ValueType === 'NUM' && meaning.test(String(name))) {
      const mv = it.MeasuredValueSequence?.[0] ?? it.MeasuredValueSequence;
      // FloatingPointValue: the full-precision value for machines (NumericValue is rounded for people).
      return Number(mv?.FloatingPointValue ?? mv?.NumericValue);
    }
    const inner = findNum(it.ContentSequence ? [].concat(it.ContentSequence) : undefined, meaning);
    if (inner !== undefined) return inner;
  }
  return undefined;
}

async function orthancInstances(o: OrthancHandle, studyUid: string) {
  const found = await o.rest('/tools/find', { method: 'POST', body: JSON.stringify({ Level: 'Instance', Query: { StudyInstanceUID: studyUid }, Expand: true }) });
  return found as any[];
}

describe('end to end: phantom study -> OsteoScreen -> Orthanc', () => {
  let orthanc: OrthancHandle;
  let svc: RunningService;
  let study: { studyUid: string; dir: string; files: string[] };
  let firstSr: { sop: string; series: string } | undefined;

  beforeAll(async () => {
    orthanc = await startOrthanc();
    const [m] = writePhantomStudies({ out: path.join(tmp, 'ph'), seed: 9101, count: 1, bone: 'low' });
    const dir = path.join(tmp, 'ph', 'study-0001');
    study = { studyUid: m!.studyInstanceUID, dir, files: filesUnder(dir) };
    svc = await startService({ env: { OSTEOSCREEN_OUTPUT_DESTINATION: `${orthanc.aet}@127.0.0.1:${orthanc.dicomPort}`, OSTEOSCREEN_OUTPUT_RETRY_BASE_SECONDS: '1' } });
  });
  afterAll(async () => {
    await svc?.stop();
    await orthanc?.stop();
  });

  it('scores the study and delivers SR + summary image into the same study in the PACS', async () => {
    const r = storescu(svc.dicomPort, study.files);
    expect(r.status, r.out).toBe(0);
    const detail = await waitFor(async () => {
      const st = await svc.json<any>(`/api/studies/${study.studyUid}`);
      return ['done', 'not-assessable', 'failed'].includes(st.state) ? st : undefined;
    }, 'job to finish', 180_000, 500);
    expect(detail.state, JSON.stringify(detail.job?.reason ?? detail.reason)).toBe('done');
    expect(detail.selection.t1).toBeTruthy();
    expect(detail.selection.t2).toBeTruthy();
    expect(detail.selection.skipped.length).toBeGreaterThanOrEqual(4);
    const sent = await waitFor(async () => {
      const st = await svc.json<any>(`/api/studies/${study.studyUid}`);
      return st.outputs.length >= 2 && st.outputs.every((o: any) => o.state === 'sent') ? st : undefined;
    }, 'outputs delivered', 60_000, 500);
    const inOrthanc = await orthancInstances(orthanc, study.studyUid);
    const classes = inOrthanc.map((i) => i.MainDicomTags?.SOPClassUID ?? '');
    const tags = await Promise.all(inOrthanc.map((i) => orthanc.rest(`/instances/${i.ID}/simplified-tags`)));
    const sr = tags.filter((t) => t.SOPClassUID === SR_CLASS);
    const sc = tags.filter((t) => t.SOPClassUID === SC_CLASS);
    expect(sr, JSON.stringify(classes)).toHaveLength(1);
    expect(sc).toHaveLength(1);
    expect(sr[0].StudyInstanceUID).toBe(study.studyUid);
    expect(sr[0].VerificationFlag).toBe('UNVERIFIED');
    firstSr = { sop: sr[0].SOPInstanceUID, series: sr[0].SeriesInstanceUID };

    // The SR's radscore equals the score of the same study analysed directly (in this process).
    const srId = inOrthanc[tags.indexOf(sr[0])].ID;
    const bytes = new Uint8Array(await (await fetch(`http://127.0.0.1:${orthanc.httpPort}/instances/${srId}/file`)).arrayBuffer());
    const ds = dcmjs.data.DicomMetaDictionary.naturalizeDataset(dcmjs.data.DicomMessage.readFile(bytes.buffer as ArrayBuffer).dict);
    const srScore = findNum(ds.ContentSequence, /radscore/i);
    expect(srScore).toBeTypeOf('number');
    const config = loadConfig({ env: {} });
    const model = loadModel(resolveInstallPath(config.model.file));
    const segmenter = await Segmenter.load(resolveInstallPath(config.segmentation.model), { threads: 1 });
    const series = sent.series.map((s: any) => ({ seriesUid: s.seriesInstanceUid, files: study.files.filter((f) => readFileSync(f).includes(Buffer.from(s.seriesInstanceUid))) }));
    const direct = await analyseStudy({ studyUid: study.studyUid, series, features: 'model', algorithmVersion: 'test' }, { config, model, segmenter });
    expect(direct.state).toBe('done');
    const directScore = (direct.score as any).score as number;
    expect(Math.abs(srScore! - directScore)).toBeLessThan(1e-4);
    expect(sent.score).toBeCloseTo(directScore, 9);
  });

  it('delivers exactly once after the PACS was down', async () => {
    const before = (await orthancInstances(orthanc, study.studyUid)).length;
    await orthanc.stop();
    // Re-run the study: new report revision, queued while the PACS is down.
    const rr = await svc.api(`/api/studies/${study.studyUid}/rerun`, { method: 'POST' });
    expect(rr.status).toBeLessThan(300);
    await waitFor(async () => {
      const st = await svc.json<any>(`/api/studies/${study.studyUid}`);
      return st.jobs.length === 2 && st.state === 'done' && st.outputs.some((o: any) => o.state === 'pending' && o.attempts > 0);
    }, 're-run done with failed delivery attempts', 180_000, 500);
    // The PACS comes back on the same address; OsteoScreen is killed hard meanwhile, outbox still pending.
    orthanc = await startOrthanc({ dicomPort: orthanc.dicomPort, httpPort: orthanc.httpPort });
    await svc.stop('SIGKILL');
    svc = await startService({ dataDir: svc.dataDir, env: { OSTEOSCREEN_OUTPUT_DESTINATION: `${orthanc.aet}@127.0.0.1:${orthanc.dicomPort}`, OSTEOSCREEN_OUTPUT_RETRY_BASE_SECONDS: '1' } });
    const st = await waitFor(async () => {
      const s = await svc.json<any>(`/api/studies/${study.studyUid}`);
      return s.outputs.every((o: any) => o.state === 'sent') ? s : undefined;
    }, 'pending outputs delivered after restart', 90_000, 500);
    const now = await orthancInstances(orthanc, study.studyUid);
    // The new Orthanc is empty: it holds exactly the re-run's SR and summary, once each.
    expect(now.length).toBe(2);
    expect(before).toBeGreaterThanOrEqual(2);
    // Sent rows are never sent again (test/pipeline/deliver.test.ts), so these counts are final.
    expect(st.outputs.filter((o: any) => o.state === 'sent').length).toBe(4);

    // The re-run's SR, as the PACS holds it, lists the first SR (same series) as its predecessor.
    let srId: string | undefined;
    for (const i of now) if ((await orthanc.rest(`/instances/${i.ID}/simplified-tags`)).SOPClassUID === SR_CLASS) srId = i.ID;
    const bytes = Buffer.from(await (await fetch(`http://127.0.0.1:${orthanc.httpPort}/instances/${srId}/file`)).arrayBuffer());
    const srFile = path.join(tmp, 'rerun-sr.dcm');
    writeFileSync(srFile, bytes);
    const ds = dcmjs.data.DicomMetaDictionary.naturalizeDataset(dcmjs.data.DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer).dict);
    expect(firstSr).toBeDefined();
    expect(ds.SeriesInstanceUID).toBe(firstSr!.series);
    expect(ds.SOPInstanceUID).not.toBe(firstSr!.sop);
    expect(ds.InstanceNumber).toBe(2);
    const pred = [].concat(ds.PredecessorDocumentsSequence ?? []) as any[];
    expect(pred).toHaveLength(1);
    expect(pred[0].StudyInstanceUID).toBe(study.studyUid);
    const series = [].concat(pred[0].ReferencedSeriesSequence) as any[];
    expect(series.map((x) => x.SeriesInstanceUID)).toEqual([firstSr!.series]);
    const sops = [].concat(series[0].ReferencedSOPSequence) as any[];
    expect(sops.map((x) => [x.ReferencedSOPClassUID, x.ReferencedSOPInstanceUID])).toEqual([[SR_CLASS, firstSr!.sop]]);
    // dcmtk reads it as an SR document with one predecessor ("Predecessor Docs : 1" in its header).
    const dump = execFileSync('dsrdump', [srFile], { encoding: 'utf8' });
    expect(dump).toMatch(/Predecessor Docs\s*: 1\n/);
    expect(dump).toContain('Verification Flag   : UNVERIFIED');
    if (process.env.OSTEOSCREEN_KEEP_RERUN_SR) writeFileSync(process.env.OSTEOSCREEN_KEEP_RERUN_SR, bytes);
  });

  it('a not-assessable study (no sagittal T2) gets an SR saying so with the reason, and no score', async () => {
    const [m] = writePhantomStudies({ out: path.join(tmp, 'na'), seed: 9102, count: 1, roles: ['t1', 'axial-t2'] });
    const files = filesUnder(path.join(tmp, 'na', 'study-0001'));
    expect(storescu(svc.dicomPort, files).status).toBe(0);
    const st = await waitFor(async () => {
      const s = await svc.json<any>(`/api/studies/${m!.studyInstanceUID}`);
      return s.state === 'not-assessable' && s.outputs.length >= 2 && s.outputs.every((o: any) => o.state === 'sent') ? s : undefined;
    }, 'not-assessable study delivered', 120_000, 500);
    expect(st.reason).toMatch(/no sagittal T2/);
    expect(st.score).toBeNull();
    const inst = await orthancInstances(orthanc, m!.studyInstanceUID);
    const srs = [];
    for (const i of inst) {
      const t = await orthanc.rest(`/instances/${i.ID}/simplified-tags`);
      if (t.SOPClassUID === SR_CLASS) srs.push(i.ID);
    }
    expect(srs).toHaveLength(1);
    const bytes = new Uint8Array(await (await fetch(`http://127.0.0.1:${orthanc.httpPort}/instances/${srs[0]}/file`)).arrayBuffer());
    const ds = dcmjs.data.DicomMetaDictionary.naturalizeDataset(dcmjs.data.DicomMessage.readFile(bytes.buffer as ArrayBuffer).dict);
    expect(findNum(ds.ContentSequence, /radscore/i)).toBeUndefined();
    expect(JSON.stringify(ds.ContentSequence)).toMatch(/no sagittal T2/);
  });
});
