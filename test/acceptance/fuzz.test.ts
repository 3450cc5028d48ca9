/**
 * Acceptance — fuzz (issue 10): 1 000 zzuf-mutated DICOM files (seeded, from small synthetic MR instances and
 * phantom instances) plus targeted malformations are sent to a running service with storescu (many files per
 * association, -nh); files storescu refuses to parse locally are pushed as raw dataset bytes through a real
 * association (rawscu). Good studies are sent between the fuzz batches. Then: the service never crashed or hung,
 * every file got a DIMSE answer, every rejection has a log line with a reason, every good file was stored and
 * every good study processed. The research CLI (`cohort`) runs over the same bad files without crashing.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { skipWithoutCommands } from '../helpers/tools.js';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeMrSeries, uid } from '../helpers/mr.js';
import { storescu, echoscu } from '../helpers/dcmtk.js';
import { sendRawDataset } from '../helpers/rawscu.js';
import { CLI, ROOT } from '../helpers/service.js';
import { writePhantomStudies } from '../../src/phantom/index.js';
import { parseHeader } from '../../src/dicom/tags.js';
import { startLogged, stopAll, offendingLogLines, saveExtraLog, metric, metricsText, waitStudiesTerminal, patientIdentifiers, filesUnder, storescuOutcomes, type LoggedService } from './harness.js';
import { YAMADA_IR87, YAMADA_IR13_87, HONG_IR149 } from '../helpers/iso2022.js';
import { setElements, textElement, withDataset, writeYbr422 } from './malformed.js';
import { zzuf, rawDatasetOf, pixelDataOffset, pixelValueOffset, datasetOffset, rewrite, lieAboutLength, replaceValue, insertEarly, undelimitedSequence, deepSequence, element } from './malformed.js';

const FUZZ_COUNT = 1000;
const BATCHES = 4;
const MODEL_PRESENT = existsSync(process.env.OSTEOSCREEN_SEGMENTATION_MODEL ?? path.join(ROOT, 'models', 'vertebrae-seg.onnx'));
const tmp = mkdtempSync(path.join(os.tmpdir(), 'osteo-acc-fuzz-'));

interface Sample {
  file: string;
  kind: string;
  /** SOP Instance UID to put in the C-STORE request when the file must go raw. */
  requestSop: string;
}

interface Outcome {
  via: 'storescu' | 'raw';
  status: number | null;
  text: string;
  error?: string;
}

function sopOf(file: string, fallback: string): string {
  try {
    return String(parseHeader(readFileSync(file)).dataset.SOPInstanceUID ?? fallback);
  } catch {
    return fallback;
  }
}

describe.skipIf(skipWithoutCommands('zzuf', 'storescu'))('acceptance: fuzzed and malformed DICOM never crash or hang the service', () => {
  let svc: LoggedService;
  const fuzz: Sample[] = [];
  const targeted: Sample[] = [];
  const good: { studyUid: string; seriesUid: string; sopUids: string[]; files: string[] }[] = [];
  const outcomes = new Map<string, Outcome>();
  let identifiers: string[] = [];
  let rejectedLinesBefore = 0;

  beforeAll(async () => {
    // Sources: a small synthetic T1+T2 study (64x64) and four phantom instances (256-512 matrix).
    const srcStudy = uid();
    const t1 = writeMrSeries(path.join(tmp, 'src', 't1'), { count: 8, rows: 64, columns: 64, studyUid: srcStudy, patientName: 'FUZZSRC^ALPHA', patientId: 'FUZZPID-0815' });
    const t2 = writeMrSeries(path.join(tmp, 'src', 't2'), { count: 8, rows: 64, columns: 64, studyUid: srcStudy, description: 't2_tse_sag', tr: 3200, te: 102, patientName: 'FUZZSRC^ALPHA', patientId: 'FUZZPID-0815' });
    writePhantomStudies({ out: path.join(tmp, 'ph'), seed: 8808, count: 1, roles: ['t1', 't2'], subSamples: 1 } as any);
    const phFiles = filesUnder(path.join(tmp, 'ph'));
    // Unusual but valid inputs (issue 14) are fuzzed too: ISO 2022 Japanese/Korean names, YBR_FULL_422 single and
    // multi-frame. (No pydicom corpus is available offline: these stand in for its charset/YBR/multi-frame files.)
    const udir = path.join(tmp, 'unusual');
    mkdirSync(udir, { recursive: true });
    const unusual: string[] = [];
    for (const [i, [cs, name]] of ([['\\ISO 2022 IR 87', YAMADA_IR87], ['ISO 2022 IR 13\\ISO 2022 IR 87', YAMADA_IR13_87], ['ISO 2022 IR 100\\ISO 2022 IR 149', HONG_IR149]] as const).entries()) {
      const f = path.join(udir, `charset-${i}.dcm`);
      const b = readFileSync(t1.files[i]!);
      writeFileSync(f, withDataset(b, setElements(rawDatasetOf(b), [textElement(0x0008, 0x0005, 'CS', Buffer.from(cs, 'latin1')), textElement(0x0010, 0x0010, 'PN', name)])));
      unusual.push(f);
    }
    for (const frames of [1, 4]) {
      const f = path.join(udir, `ybr-${frames}.dcm`);
      writeYbr422(t1.files[0]!, f, { rows: 32, columns: 32, frames, sop: uid() });
      unusual.push(f);
    }
    const sources = [...t1.files, ...t2.files, phFiles[0]!, phFiles[5]!, phFiles[phFiles.length - 1]!, phFiles[phFiles.length - 6]!, ...unusual];
    identifiers = patientIdentifiers([...sources, ...phFiles]);

    // 1 000 zzuf mutations in four modes: whole file (low ratio), header region only (meta + dataset before
    // PixelData, higher ratio), dataset header only (meta intact, so storescu sends most of them), and pixel
    // values only (a well-formed header around corrupted pixels: must be stored and then processed without a crash).
    const fdir = path.join(tmp, 'fuzz');
    mkdirSync(fdir, { recursive: true });
    for (let i = 0; i < FUZZ_COUNT; i++) {
      const src = sources[i % sources.length]!;
      const buf = readFileSync(src);
      const px = pixelDataOffset(buf);
      const ds = datasetOffset(buf);
      const mode = i % 4;
      const out =
        mode === 0
          ? zzuf(src, i + 1, 0.0005)
          : mode === 1
            ? zzuf(src, i + 1, 0.004, `0-${px}`)
            : mode === 2
              ? zzuf(src, i + 1, 0.002, `${ds}-${px}`)
              : zzuf(src, i + 1, 0.002, `${pixelValueOffset(buf, px)}-`);
      const f = path.join(fdir, `z${String(i).padStart(4, '0')}.dcm`);
      writeFileSync(f, out);
      fuzz.push({ file: f, kind: `zzuf-${mode}`, requestSop: sopOf(src, '1.2.3') });
    }

    // Targeted malformations.
    const tdir = path.join(tmp, 'targeted');
    mkdirSync(tdir, { recursive: true });
    const base = t1.files[0]!;
    const baseSop = t1.sopUids[0]!;
    const baseDs = rawDatasetOf(readFileSync(base));
    const add = (kind: string, make: (f: string) => void, requestSop = baseSop) => {
      const f = path.join(tdir, `${kind}.dcm`);
      make(f);
      targeted.push({ file: f, kind, requestSop });
    };
    const rawFile = (dataset: Buffer) => (f: string) => {
      // A Part-10 file around a raw dataset (storescu may or may not parse it; raw send otherwise).
      const b = readFileSync(base);
      writeFileSync(f, Buffer.concat([b.subarray(0, datasetOffset(b)), dataset]));
    };
    add('lying-length-description', rawFile(lieAboutLength(baseDs, 0x0008, 0x103e, 0xfff0)));
    add('lying-length-patientname-odd', rawFile(lieAboutLength(baseDs, 0x0010, 0x0010, 0x7fff)));
    add('lying-length-pixeldata-huge', rawFile(lieAboutLength(baseDs, 0x7fe0, 0x0010, 0x7ffffff0)));
    add('lying-length-pixeldata-short', rawFile(lieAboutLength(baseDs, 0x7fe0, 0x0010, 100)));
    add('undelimited-sequence', rawFile(insertEarly(baseDs, undelimitedSequence())));
    add('deep-sequence-5000', rawFile(insertEarly(baseDs, deepSequence(5000))));
    add('sequence-lying-item-length', rawFile(insertEarly(baseDs, Buffer.concat([element(0x0008, 0x1140, 'SQ', Buffer.alloc(0), 0xffffffff), Buffer.from([0xfe, 0xff, 0x00, 0xe0, 0xf0, 0xff, 0xff, 0x7f])]))));
    add('truncated-in-header', rawFile(baseDs.subarray(0, 150)));
    add('garbage-after-meta', rawFile(Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 31 + 7) % 256))));
    add('huge-rows-columns', (f) => rewrite(base, f, (d) => ((d.Rows = 65535), (d.Columns = 65535))));
    add('zero-rows', (f) => rewrite(base, f, (d) => ((d.Rows = 0), (d.Columns = 0))));
    add('pixeldata-half-size', (f) => rewrite(base, f, (d) => (d.PixelData = new Uint8Array(64 * 64).buffer)));
    add('pixeldata-too-long', (f) => rewrite(base, f, (d) => (d.PixelData = new Uint8Array(64 * 64 * 2 + 4096).buffer)));
    add('bits-allocated-zero', (f) => rewrite(base, f, (d) => ((d.BitsAllocated = 0), (d.BitsStored = 0))));
    const badUid = (kind: string, field: 'StudyInstanceUID' | 'SeriesInstanceUID' | 'SOPInstanceUID', value: string) =>
      add(
        kind,
        (f) =>
          rewrite(base, f, (d, m) => {
            d[field] = value;
            if (field === 'SOPInstanceUID') m.MediaStorageSOPInstanceUID = value;
          }),
        field === 'SOPInstanceUID' ? value : baseSop,
      );
    badUid('uid-study-dotdot', 'StudyInstanceUID', '../../../../../tmp/osteo-fuzz-escape');
    badUid('uid-series-slash', 'SeriesInstanceUID', '1.2.3/../../../osteo-fuzz-escape');
    badUid('uid-sop-dotdot', 'SOPInstanceUID', '../../osteo-fuzz-escape');
    badUid('uid-study-absolute', 'StudyInstanceUID', '/tmp/osteo-fuzz-escape');
    // dcmjs truncates a long UI value when it writes, so this one is patched into the raw bytes.
    add('uid-study-too-long', rawFile(replaceValue(baseDs, 0x0020, 0x000d, Buffer.from('1.' + '2'.repeat(70)))));
    badUid('uid-study-empty', 'StudyInstanceUID', '');
    // Truncated files (cut inside PixelData, inside the header, at an element boundary) and unusual character sets.
    for (const cut of [1, 2000, 8000]) add(`truncated-${cut}`, (f) => writeFileSync(f, readFileSync(base).subarray(0, -cut)), baseSop);
    add('truncated-phantom-2000', (f) => writeFileSync(f, readFileSync(phFiles[0]!).subarray(0, -2000)), sopOf(phFiles[0]!, baseSop));
    add('charset-unknown-term', (f) => writeFileSync(f, withDataset(readFileSync(base), setElements(baseDs, [textElement(0x0008, 0x0005, 'CS', Buffer.from('ISO_IR 999'))]))));
    add('charset-iso2022-broken-escape', (f) => writeFileSync(f, withDataset(readFileSync(base), setElements(baseDs, [textElement(0x0008, 0x0005, 'CS', Buffer.from('\\ISO 2022 IR 87')), textElement(0x0010, 0x0010, 'PN', Buffer.from([0x41, 0x1b, 0x24, 0x42, 0x3b]))]))));
    for (const f of unusual) targeted.push({ file: f, kind: `unusual-${path.basename(f, '.dcm')}`, requestSop: sopOf(f, baseSop) });

    // Good studies (T1 only: selection ends them as not assessable, "no sagittal T2"), one per gap between batches.
    for (let b = 0; b <= BATCHES; b++) {
      good.push(writeMrSeries(path.join(tmp, 'good', String(b)), { count: 6, rows: 64, columns: 64, patientName: `GOODPAT^NUMBER${b}`, patientId: `GOODPID-${b}-9137` }));
    }
    identifiers.push(...patientIdentifiers(good.flatMap((g) => g.files)));

    svc = await startLogged('fuzz', { env: { OSTEOSCREEN_PIPELINE_MAX_ATTEMPTS: '1', OSTEOSCREEN_DICOM_MAX_ASSOCIATIONS: '16' } });
    rejectedLinesBefore = (svc.logs().match(/C-STORE rejected/g) ?? []).length;
  }, 240_000);

  afterAll(async () => {
    await stopAll();
  });

  /** storescu (-nh, one association for the batch); files it could not parse go raw, one association each. */
  async function sendBatch(samples: Sample[]): Promise<void> {
    const r = storescu(svc.dicomPort, samples.map((s) => s.file), { aet: 'FUZZSCU', extra: ['-nh', '-v', '-to', '20', '-ta', '20', '-td', '60'] });
    const res = storescuOutcomes(r.out);
    for (const s of samples) {
      const st = res.get(s.file);
      if (st !== undefined) {
        outcomes.set(s.file, { via: 'storescu', status: st === 'success' ? 0 : 0xc000, text: st });
        continue;
      }
      const raw = rawDatasetOf(readFileSync(s.file));
      const rr = await sendRawDataset(svc.dicomPort, raw.length ? raw : Buffer.from([0, 0]), { sopInstanceUid: s.requestSop });
      outcomes.set(s.file, { via: 'raw', status: rr.status, text: rr.status === null ? `no answer: ${rr.error ?? ''}` : `0x${rr.status.toString(16)}`, error: rr.error });
    }
    expect(svc.proc.exitCode, svc.logs().slice(-3000)).toBeNull();
  }

  it(`answers every one of ${FUZZ_COUNT} zzuf-mutated files and ${'the targeted'} malformations, with good studies in between`, async () => {
    const all = [...targeted, ...fuzz];
    const per = Math.ceil(all.length / BATCHES);
    const t0 = Date.now();
    for (let b = 0; b < BATCHES; b++) {
      const g = good[b]!;
      const r = storescu(svc.dicomPort, g.files, { aet: 'GOODSCU' });
      expect(r.status, r.out).toBe(0);
      await sendBatch(all.slice(b * per, (b + 1) * per));
    }
    const last = good[BATCHES]!;
    expect(storescu(svc.dicomPort, last.files, { aet: 'GOODSCU' }).status).toBe(0);
    const seconds = (Date.now() - t0) / 1000;

    const list = [...outcomes.values()];
    const stored = list.filter((o) => o.status === 0).length;
    const rejected = list.filter((o) => o.status !== null && o.status !== 0).length;
    const unanswered = list.filter((o) => o.status === null);
    const viaRaw = list.filter((o) => o.via === 'raw').length;
    const fuzzStored = fuzz.filter((s) => outcomes.get(s.file)?.status === 0).length;
    const summary = { files: list.length, stored, rejected, unanswered: unanswered.length, viaStorescu: list.length - viaRaw, viaRaw, fuzzStored, fuzzRejected: FUZZ_COUNT - fuzzStored, seconds };
    console.log('[acceptance:fuzz]', JSON.stringify(summary));
    const reasons: Record<string, number> = {};
    for (const l of svc.logs().match(/C-STORE rejected reason=("[^"]*"|\S+)/g) ?? []) {
      const k = l.replace(/^C-STORE rejected reason=/, '').replace(/^"|"$/g, '').replace(/:.*/, '').slice(0, 60);
      reasons[k] = (reasons[k] ?? 0) + 1;
    }
    console.log('[acceptance:fuzz] rejection reasons', JSON.stringify(reasons));
    console.log('[acceptance:fuzz] targeted', JSON.stringify(Object.fromEntries(targeted.map((s) => [s.kind, outcomes.get(s.file)?.text]))));
    expect(list.length).toBe(FUZZ_COUNT + targeted.length);
    // Every file got a DIMSE answer (a refused or aborted association would be "no answer").
    expect(unanswered.map((o) => o.text), 'files without a DIMSE answer').toEqual([]);
    // Both paths were exercised substantially.
    expect(viaRaw).toBeGreaterThan(50);
    expect(list.length - viaRaw).toBeGreaterThan(100);
    expect(stored).toBeGreaterThan(50);
    expect(rejected).toBeGreaterThan(50);
    // Each rejection has its own log line with a reason.
    const lines = (svc.logs().match(/C-STORE rejected reason=\S.*/g) ?? []).length;
    expect(lines - rejectedLinesBefore).toBe(rejected);
    // Accounting on the service side matches what the senders saw.
    const m = await metricsText(svc);
    expect(metric(m, 'osteoscreen_instances_received_total', { outcome: 'rejected' })).toBe(rejected);
    const good_ = good.reduce((n, g) => n + g.files.length, 0);
    const accepted = ['new', 'replaced', 'identical'].map((o) => metric(m, 'osteoscreen_instances_received_total', { outcome: o })).filter(Number.isFinite).reduce((a, b) => a + b, 0);
    expect(accepted).toBe(stored + good_);
    // The unusual but valid files are stored; truncated ones are refused.
    for (const s of targeted.filter((t) => t.kind.startsWith('unusual-'))) expect(outcomes.get(s.file)?.status, s.kind).toBe(0);
    for (const s of targeted.filter((t) => t.kind.startsWith('truncated-') && t.kind !== 'truncated-in-header')) expect(outcomes.get(s.file)?.status, s.kind).not.toBe(0);
    expect(seconds, 'the fuzz run is bounded in time').toBeLessThan(540);
    // Path-traversal UIDs never became a path: all rejected.
    for (const s of targeted.filter((t) => t.kind.startsWith('uid-'))) expect(outcomes.get(s.file)?.status, s.kind).not.toBe(0);
    expect(existsSync('/tmp/osteo-fuzz-escape')).toBe(false);
    expect(existsSync(path.join(svc.dataDir, 'osteo-fuzz-escape'))).toBe(false);
  }, 600_000);

  it('stored every good instance and processed every good study; the service is still healthy', async () => {
    for (const g of good) for (const sop of g.sopUids) expect(existsSync(path.join(svc.dataDir, 'studies', g.studyUid, g.seriesUid, `${sop}.dcm`))).toBe(true);
    const rows = await waitStudiesTerminal(svc, good.map((g) => g.studyUid), 120_000);
    for (const r of rows) {
      if (MODEL_PRESENT) expect([r.state, r.reason]).toEqual(['not-assessable', 'no sagittal T2']);
      else expect(r.state === 'not-assessable' || /segmentation model/.test(String(r.job?.reason ?? r.reason)), JSON.stringify(r)).toBe(true);
    }
    expect(svc.proc.exitCode).toBeNull();
    expect((await svc.api('/health', { token: null })).status).toBe(200);
    expect(echoscu(svc.dicomPort).status).toBe(0);
  }, 180_000);

  it('processes the studies made of stored fuzzed instances to an end state without crashing', async () => {
    // Everything the index holds (fuzzed UIDs created extra studies) reaches a terminal state.
    const all = await svc.json<any[]>('/api/studies?limit=5000');
    const uids = all.map((s) => s.studyInstanceUid);
    expect(uids.length).toBeGreaterThan(good.length);
    const rows = await waitStudiesTerminal(svc, uids, 120_000);
    const byState: Record<string, number> = {};
    for (const r of rows) byState[r.state] = (byState[r.state] ?? 0) + 1;
    console.log('[acceptance:fuzz] studies by state', JSON.stringify(byState));
    expect(svc.proc.exitCode).toBeNull();
    // Every file under studies/ sits at <valid UID>/<valid UID>/<valid UID>.dcm.
    const re = /^[0-9]+(\.[0-9]+)*$/;
    for (const f of filesUnder(path.join(svc.dataDir, 'studies'), '')) {
      const rel = path.relative(path.join(svc.dataDir, 'studies'), f).split(path.sep);
      expect(rel.length, f).toBe(3);
      expect(re.test(rel[0]!) && re.test(rel[1]!) && re.test(rel[2]!.replace(/\.dcm$/, '')), f).toBe(true);
    }
  }, 300_000);

  it('the research CLI (cohort) runs over the fuzzed files without crashing or hanging', () => {
    const dir = path.join(tmp, 'cohort-in');
    mkdirSync(dir, { recursive: true });
    const pick = [...targeted, ...fuzz.filter((_, i) => i % 4 === 0)];
    pick.forEach((s, i) => copyFileSync(s.file, path.join(dir, `${String(i).padStart(4, '0')}.dcm`)));
    for (const f of good[0]!.files) copyFileSync(f, path.join(dir, `good-${path.basename(f)}`));
    const out = path.join(tmp, 'cohort.csv');
    const r = spawnSync(process.execPath, [CLI, 'cohort', '--studies', dir, '--out', out, '--jobs', '1'], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
    saveExtraLog('fuzz-cohort', (r.stdout ?? '') + (r.stderr ?? ''));
    expect(r.error, 'cohort timed out or could not start').toBeUndefined();
    expect(r.signal, r.stderr.slice(-2000)).toBeNull();
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    const csv = readFileSync(out, 'utf8').trim().split('\n');
    const goodRow = csv.find((l) => l.startsWith(good[0]!.studyUid + ','));
    expect(goodRow, 'row of the good study').toBeTruthy();
    expect(csv.length).toBeGreaterThan(2);
    expect(r.stderr).not.toMatch(/Maximum call stack|FATAL ERROR|Segmentation fault/);
    console.log('[acceptance:fuzz] cohort', JSON.stringify({ files: pick.length + good[0]!.files.length, rows: csv.length - 1 }));
  }, 300_000);

  it('never logs the patients\' names, IDs or birth dates (service and CLI logs of this file)', () => {
    expect(identifiers.length).toBeGreaterThanOrEqual(6);
    expect(offendingLogLines('fuzz', identifiers).slice(0, 5)).toEqual([]);
  });
});
