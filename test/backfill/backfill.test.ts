/**
 * Backfill parts without a network: pacing (window, budget, back-off, pace/ETA), the series judgement from
 * series-level attributes, multipart parsing of WADO-RS answers, the campaign store (claiming, counts), job
 * priority (pushed studies first, studies being retrieved wait) and the worklist CSV.
 */
import { describe, it, expect } from 'vitest';
import { inWindow, nextBackoff, paceAndEta, retrievalSlots, scheduleProblem } from '../../src/backfill/pacing.js';
import { judgeStudy, type RemoteSeries } from '../../src/backfill/candidates.js';
import { multipartParts, parseSource } from '../../src/backfill/sources.js';
import { multipartRelated } from '../../src/output/stow.js';
import { worklistCsv, campaignRequestSchema, backfillRoutes, WORKLIST_COLUMNS } from '../../src/backfill/routes.js';
import type { Request } from '../../src/admin/http.js';
import { DEFAULT_SELECTION_RULES } from '../../src/pipeline/selection.js';
import { loadConfig } from '../../src/config/index.js';
import { parseCsv } from '../../src/common/csv.js';
import { memoryStore, receive } from '../helpers/memory-store.js';
import { writeMrSeries } from '../helpers/mr.js';
import { ingestSink } from '../../src/backfill/ingest.js';
import { splitPart10 } from '../../src/dicom/part10.js';
import { createMetrics } from '../../src/common/metrics.js';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

describe('pacing', () => {
  it('the allowed window is a cron-style minute pattern in local time', () => {
    const at = (h: number, m: number, day = 3) => new Date(2026, 0, 4 + day, h, m); // 2026-01-04 is a Sunday
    expect(inWindow('', at(12, 0))).toBe(true);
    const nights = '* 0-6,20-23 * * *';
    expect(inWindow(nights, at(21, 30))).toBe(true);
    expect(inWindow(nights, at(6, 59))).toBe(true);
    expect(inWindow(nights, at(7, 0))).toBe(false);
    expect(inWindow(nights, at(19, 59))).toBe(false);
    const weekends = '* * * * 0,6';
    expect(inWindow(weekends, at(12, 0, 0))).toBe(true); // Sunday
    expect(inWindow(weekends, at(12, 0, 6))).toBe(true); // Saturday
    expect(inWindow(weekends, at(12, 0, 3))).toBe(false); // Wednesday
    expect(inWindow('* * * * 7', at(12, 0, 0))).toBe(true); // 7 = Sunday too
    expect(inWindow('*/15 * * * *', at(3, 30))).toBe(true);
    expect(inWindow('*/15 * * * *', at(3, 31))).toBe(false);
    expect(scheduleProblem('* 0-6 * * *')).toBeNull();
    expect(scheduleProblem('nights')).toMatch(/5 fields/);
    expect(scheduleProblem('* 25 * * *')).toMatch(/not a valid cron/);
  });

  it('concurrency and hourly budget, doubling back-off capped at 1 h, pace and ETA', () => {
    expect(retrievalSlots({ maxConcurrent: 2, maxPerHour: 60, active: 0, startedLastHour: 0 })).toBe(2);
    expect(retrievalSlots({ maxConcurrent: 2, maxPerHour: 60, active: 2, startedLastHour: 0 })).toBe(0);
    expect(retrievalSlots({ maxConcurrent: 4, maxPerHour: 10, active: 0, startedLastHour: 9 })).toBe(1);
    expect(retrievalSlots({ maxConcurrent: 4, maxPerHour: 10, active: 0, startedLastHour: 10 })).toBe(0);
    expect(retrievalSlots({ maxConcurrent: 4, maxPerHour: 0, active: 1, startedLastHour: 1000 })).toBe(3);
    expect([nextBackoff(0, 30), nextBackoff(30, 30), nextBackoff(60, 30), nextBackoff(2400, 30)]).toEqual([30, 60, 120, 3600]);
    expect(paceAndEta(0, 1000, 5)).toEqual({ perHour: null, etaSeconds: null });
    expect(paceAndEta(10, 1_800_000, 40)).toEqual({ perHour: 20, etaSeconds: 7200 });
  });
});

const series = (over: Partial<RemoteSeries>): RemoteSeries => ({
  uid: '1.2.3',
  modality: 'MR',
  number: 1,
  description: '',
  bodyPart: '',
  orientation: null,
  imageType: [],
  tr: null,
  te: null,
  ti: null,
  scanOptions: [],
  instances: null,
  ...over,
});
const SAG = [0.06, 0.997, 0.05, 0.012, 0.053, -0.998];
const AX = [1, 0, 0, 0, 1, 0];

describe('series judgement from series-level attributes', () => {
  const study = { description: 'MRT LWS', bodyPart: 'LSPINE' };
  it('keeps sagittal T1/T2 candidates; drops axial, localizer, STIR, derived, non-MR', () => {
    const j = judgeStudy(
      study,
      [
        series({ uid: 't2', description: 't2_tse_sag', orientation: SAG, tr: 3600, te: 90 }),
        series({ uid: 't1', description: 't1_tse_sag', orientation: SAG, tr: 500, te: 12, imageType: ['ORIGINAL', 'PRIMARY'] }),
        series({ uid: 'ax', description: 't2_tse_tra', orientation: AX, tr: 3000, te: 100 }),
        series({ uid: 'loc', description: 'localizer', orientation: SAG }),
        series({ uid: 'stir', description: 't2_tirm_sag', orientation: SAG }),
        series({ uid: 'mpr', description: 'sag MPR', orientation: SAG, imageType: ['DERIVED', 'SECONDARY'] }),
        series({ uid: 'pr', modality: 'PR' }),
      ],
      DEFAULT_SELECTION_RULES,
    );
    expect(j.basis).toBe('attributes');
    expect(j.candidates.map((c) => c.uid)).toEqual(['t2', 't1']);
    expect(Object.fromEntries(j.rejected.map((r) => [r.uid, r.reason]))).toMatchObject({
      ax: expect.stringMatching(/not sagittal/),
      loc: expect.stringMatching(/exclusion pattern/),
      stir: expect.stringMatching(/exclusion pattern/),
      mpr: expect.stringMatching(/not an original/),
    });
  });

  it('too little to judge: every MR series; nothing usable or not lumbar: skipped with the reason', () => {
    const bare = judgeStudy(study, [series({ uid: 'a' }), series({ uid: 'b' }), series({ uid: 'c', modality: 'SR' })], DEFAULT_SELECTION_RULES);
    expect(bare.basis).toBe('fallback');
    expect(bare.candidates.map((c) => c.uid)).toEqual(['a', 'b']);
    expect(judgeStudy(study, [series({ uid: 'ax', orientation: AX })], DEFAULT_SELECTION_RULES).skipReason).toMatch(/no candidate sagittal series \(not sagittal/);
    expect(judgeStudy(study, [series({ modality: 'CT' })], DEFAULT_SELECTION_RULES).skipReason).toMatch(/no MR series \(CT\)/);
    expect(judgeStudy({ description: 'MR C-SPINE', bodyPart: '' }, [series({ orientation: SAG })], DEFAULT_SELECTION_RULES).skipReason).toMatch(/not a lumbar study/);
    expect(judgeStudy({ description: 'MR', bodyPart: '' }, [series({ orientation: SAG, bodyPart: 'CSPINE' })], DEFAULT_SELECTION_RULES).skipReason).toMatch(/not a lumbar study \(body part CSPINE\)/);
    expect(judgeStudy(study, [series({ orientation: SAG })], DEFAULT_SELECTION_RULES, { descriptionFilter: 'lumbal' }).skipReason).toMatch(/does not match the campaign's description filter/);
    expect(judgeStudy(study, [series({ orientation: SAG, bodyPart: 'LSPINE' })], DEFAULT_SELECTION_RULES, { bodyPartFilter: '^L' }).skipReason).toBeUndefined();
  });
});

describe('sources and requests', () => {
  it('parses AET@host:port and DICOMweb URLs; refuses anything else and credentials in the URL', () => {
    expect(parseSource('PACS@10.0.0.1:104')).toEqual({ kind: 'dimse', aeTitle: 'PACS', host: '10.0.0.1', port: 104 });
    expect(parseSource('https://pacs.example/dicom-web/')).toEqual({ kind: 'dicomweb', url: 'https://pacs.example/dicom-web' });
    expect(() => parseSource('pacs.example:104')).toThrow(/AET@host:port/);
    expect(() => parseSource('PACS@h:70000')).toThrow(/AET@host:port/);
    expect(() => parseSource('https://u:p@pacs.example/dw')).toThrow(/credentials/);
  });

  it('reads every Part-10 part of a multipart/related answer byte for byte', () => {
    const files = [Buffer.from('first\r\n--not-a-boundary'), Buffer.alloc(1000, 7), Buffer.from([0, 13, 10, 13, 10, 255])];
    const { contentType, body } = multipartRelated(files);
    const parts = multipartParts(body, contentType);
    expect(parts.map((p) => p.toString('hex'))).toEqual(files.map((f) => f.toString('hex')));
    expect(() => multipartParts(body, 'multipart/related')).toThrow(/no boundary/);
  });

  it('a campaign request needs a source and a valid date range', () => {
    expect(campaignRequestSchema.parse({ source: 'P@h:1', studyDateFrom: '2020-01-01', studyDateTo: '20201231' })).toMatchObject({ studyDateFrom: '20200101', studyDateTo: '20201231', sendToPacs: false });
    expect(campaignRequestSchema.safeParse({ source: 'P@h:1', studyDateFrom: '20201301', studyDateTo: '20201231' }).success).toBe(false);
    expect(campaignRequestSchema.safeParse({ source: 'P@h:1', studyDateFrom: '20210101', studyDateTo: '20201231' }).success).toBe(false);
    expect(campaignRequestSchema.safeParse({ source: 'P@h:1', studyDateFrom: '20200101', studyDateTo: '20201231', descriptionFilter: '(' }).success).toBe(false);
    expect(campaignRequestSchema.safeParse({ source: 'P@h:1', studyDateFrom: '20200101', studyDateTo: '20201231', patientName: 'x' }).success).toBe(false);
    expect(campaignRequestSchema.safeParse({ source: 'P@h:1', studyDateFrom: '20200101', studyDateTo: '20201231', retrieve: 'fetch' }).success).toBe(false);
  });

  it('the retrieve method of a DIMSE campaign: as asked, else backfill.retrieve, fixed at creation; refused for DICOMweb', () => {
    const store = memoryStore();
    const config = loadConfig({ env: { OSTEOSCREEN_BACKFILL_RETRIEVE: 'get' } });
    const post = backfillRoutes({ config, store }).find((r) => r.method === 'POST' && r.pattern === '/api/backfill')!;
    const start = (body: Record<string, unknown>) => {
      const req = { method: 'POST', path: '/api/backfill', params: {}, query: new URLSearchParams(), body: { studyDateFrom: '20240101', studyDateTo: '20240131', ...body }, ip: '127.0.0.1', actor: 't' } as unknown as Request;
      return post.handler(req) as { status: number; json: { query: { retrieve?: string } } };
    };
    expect(start({ source: 'P@h:1' }).json.query.retrieve).toBe('get');
    expect(start({ source: 'P@h:1', retrieve: 'move' }).json.query.retrieve).toBe('move');
    expect(start({ source: 'http://pacs/dicom-web' }).json.query.retrieve).toBeUndefined();
    expect(() => start({ source: 'http://pacs/dicom-web', retrieve: 'get' })).toThrow(/DIMSE source/);
    const audited = store.audit.list(10).filter((a) => a.action === 'backfill-start');
    expect(audited.map((a) => JSON.parse(a.detail ?? '{}').retrieve ?? null).sort()).toEqual(['get', 'move', null].sort());
  });
});

describe('C-GET sub-operations into the listener\'s store path', () => {
  it('a complete data set is validated, stored and indexed once; a wrong context or a data set cut off is dropped', async () => {
    const store = memoryStore();
    const config = loadConfig({ env: { OSTEOSCREEN_STORAGE_MIN_FREE_MB: '0' } });
    const stored: string[] = [];
    const sink = ingestSink({ config, store, metrics: createMetrics(), onStored: (i) => stored.push(i.seriesUid) }, 'PACS');
    const { files, seriesUid, sopUids } = writeMrSeries(mkdtempSync(path.join(os.tmpdir(), 'cget-sink-')), { count: 2 });
    const send = async (file: string, cut = false) => {
      const bytes = readFileSync(file);
      const p = splitPart10(bytes);
      const sub = { sopClassUid: p.sopClassUid, sopInstanceUid: p.sopInstanceUid, transferSyntax: p.transferSyntaxUid, contextSopClass: p.sopClassUid };
      const w = sink.open(sub);
      const body = bytes.subarray(p.datasetOffset);
      if (cut) {
        w.write(body.subarray(0, 100));
        return undefined;
      }
      await new Promise<void>((r) => w.end(body, () => r()));
      return sink.store(w, sub);
    };
    expect(await send(files[0]!)).toMatchObject({ status: 0, outcome: 'new' });
    expect(await send(files[0]!)).toMatchObject({ status: 0, outcome: 'identical' }); // a second arrival is counted, not stored again
    expect(store.index.getSeries(seriesUid)?.instances).toBe(1);
    expect(store.index.getInstance(sopUids[0]!)?.calling_ae).toBe('PACS');
    expect(stored).toEqual([seriesUid]);
    // A SOP class on another SOP class's presentation context: refused as the listener refuses it.
    const p = splitPart10(readFileSync(files[1]!));
    const wrong = { sopClassUid: p.sopClassUid, sopInstanceUid: p.sopInstanceUid, transferSyntax: p.transferSyntaxUid, contextSopClass: '1.2.840.10008.5.1.4.1.1.2' };
    const w = sink.open(wrong);
    await new Promise<void>((r) => w.end(Buffer.alloc(10), () => r()));
    expect(await sink.store(w, wrong)).toMatchObject({ status: 0x0122 });
    // Cut off mid-transfer (the association ended): its temp file is removed when the association closes.
    await send(files[1]!, true);
    for (let k = 0; k < 1000 && !readdirSync(store.blobs.tmpDir).length; k++) await new Promise((r) => setImmediate(r)); // the file opens asynchronously
    expect(readdirSync(store.blobs.tmpDir).length).toBe(1);
    await sink.close!();
    expect(readdirSync(store.blobs.tmpDir)).toEqual([]);
    expect(store.index.getInstance(sopUids[1]!)).toBeUndefined();
  });
});

describe('campaign store, job priority, worklist', () => {
  const query = { studyDateFrom: '20240101', studyDateTo: '20241231' };

  it('claims found studies in date order, counts states, keeps the hourly count across claims', () => {
    const store = memoryStore();
    const c = store.backfill.createCampaign({ source: 'P@h:1', query, sendToPacs: false, actor: 't' });
    expect(store.backfill.addStudy(c.id, { studyUid: '1.2.2', studyDate: '20240302' }, 'found', null)).toBe(true);
    expect(store.backfill.addStudy(c.id, { studyUid: '1.2.1', studyDate: '20240301' }, 'found', null)).toBe(true);
    expect(store.backfill.addStudy(c.id, { studyUid: '1.2.1', studyDate: '20240301' }, 'found', null)).toBe(false);
    store.backfill.addStudy(c.id, { studyUid: '1.2.9' }, 'skipped', 'not a lumbar study');
    const first = store.backfill.claimFound(c.id)!;
    expect([first.study_uid, first.state, first.attempts]).toEqual(['1.2.1', 'retrieving', 1]);
    expect(store.backfill.counts(c.id)).toMatchObject({ found: 1, retrieving: 1, skipped: 1 });
    expect(store.backfill.retrievalsSince(0)).toBe(1);
    expect(store.backfill.setCampaignState(c.id, 'paused', ['running'])).toBe(true);
    expect(store.backfill.setCampaignState(c.id, 'paused', ['running'])).toBe(false);
    expect(store.backfill.skipRemaining(c.id, 'cancelled')).toBe(1);
  });

  it('pushed studies are analysed first; a study still being retrieved waits; DICOM outputs only when asked', () => {
    const store = memoryStore();
    const c = store.backfill.createCampaign({ source: 'P@h:1', query, sendToPacs: false, actor: 't' });
    for (const uid of ['1.5.1', '1.5.2']) {
      store.backfill.addStudy(c.id, { studyUid: uid }, 'found', null);
      store.backfill.claimFound(c.id);
    }
    // Retrieved (older jobs) before a pushed study arrives.
    for (const uid of ['1.5.1', '1.5.2', '1.6.1']) {
      receive(store, uid, `${uid}.1`);
      store.index.markSeriesStable([`${uid}.1`]);
      store.index.enqueueJob(uid, 'stable');
    }
    store.backfill.setStudyState(c.id, '1.5.1', 'retrieved', null);
    expect(store.backfill.routingOf('1.5.1')).toEqual({ campaignId: c.id, sendToPacs: false });
    expect(store.backfill.routingOf('1.6.1')).toBeUndefined();
    expect(store.index.claimJob()?.study_uid).toBe('1.6.1'); // pushed first
    expect(store.index.claimJob()?.study_uid).toBe('1.5.1'); // retrieved
    expect(store.index.claimJob()).toBeUndefined(); // 1.5.2 is still being retrieved
    store.backfill.setStudyState(c.id, '1.5.2', 'retrieved', null);
    expect(store.index.claimJob()?.study_uid).toBe('1.5.2');
  });

  it('the worklist CSV has the promised columns and no patient name', () => {
    const store = memoryStore();
    const config = loadConfig({ env: { OSTEOSCREEN_HTTP_PUBLIC_URL: 'https://osteo.example' } });
    const c = store.backfill.createCampaign({ source: 'P@h:1', query, sendToPacs: false, actor: 't' });
    store.backfill.addStudy(c.id, { studyUid: '1.7.1', studyDate: '20240105', accession: 'ACC1' }, 'skipped', 'not a lumbar study (description "MR C-SPINE")');
    const rows = parseCsv(worklistCsv(config, c.id, store.backfill.worklist(c.id)));
    expect(rows[0]).toEqual(WORKLIST_COLUMNS);
    expect(rows[1]).toEqual([String(c.id), '20240105', 'ACC1', '', 'skipped', '', '', '', '', 'not a lumbar study (description "MR C-SPINE")', '']);
  });
});
