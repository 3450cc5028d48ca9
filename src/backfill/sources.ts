/**
 * Where a campaign finds and retrieves studies: a DIMSE PACS (`AET@host:port`: C-FIND study + series level, then
 * C-MOVE of the chosen series to our own AE, which stores them through the listener, or C-GET, whose C-STORE
 * sub-operations go through the listener's store function on our own association) or a DICOMweb service (QIDO-RS,
 * then WADO-RS; each received Part-10 instance goes through the listener's store function, see ingest.ts).
 * Every call resolves with `ok`, the error in words, whether a retry can help, and the answer time.
 */
import http from 'node:http';
import https from 'node:https';
import type { Config, StowDestination } from '../config/schema.js';
import { findSeries as cFindSeries, findStudies as cFindStudies, getSeries, matchNumber, matchString, matchStrings, moveSeries, type Match } from '../dicom/qr.js';
import type { ScuDestination } from '../dicom/scu.js';
import type { ScpContext } from '../dicom/scp.js';
import { authHeaders } from '../output/stow.js';
import { describeNetworkError, isRetryableHttpStatus, readCaFile } from '../output/http-post.js';
import { OsteoError, errorMessage } from '../common/errors.js';
import type { RemoteSeries, RemoteStudy } from './candidates.js';
import { ingestPart10, ingestSink } from './ingest.js';

export interface SourceAnswer {
  ok: boolean;
  error?: string;
  retryable?: boolean;
  ms: number;
}

export interface BackfillSource {
  /** For logs and the page: `AET@host:port` or the URL. */
  label: string;
  findStudies(dateFrom: string, dateTo: string): Promise<SourceAnswer & { studies: RemoteStudy[] }>;
  findSeries(studyUid: string): Promise<SourceAnswer & { series: RemoteSeries[] }>;
  /** Retrieve these series into the local store (the normal path); `instances` counts what arrived. */
  retrieve(studyUid: string, seriesUids: string[]): Promise<SourceAnswer & { instances: number }>;
}

/** `AET@host:port` -> a DIMSE source address; an http(s) URL -> DICOMweb; anything else: an error in words. */
export function parseSource(source: string): { kind: 'dimse'; aeTitle: string; host: string; port: number } | { kind: 'dicomweb'; url: string } {
  const s = source.trim();
  if (/^https?:\/\//i.test(s)) {
    if (!URL.canParse(s)) throw new OsteoError('bad-source', `source "${s}" is not a valid URL`, 400);
    const u = new URL(s);
    if (u.username || u.password) throw new OsteoError('bad-source', 'put DICOMweb credentials in backfill.dicomweb (auth, token, user, password), not in the URL', 400);
    return { kind: 'dicomweb', url: s.replace(/\/+$/, '') };
  }
  const m = /^([^@]{1,16})@([^:@]+):(\d{1,5})$/.exec(s);
  if (!m || Number(m[3]) < 1 || Number(m[3]) > 65535) throw new OsteoError('bad-source', `source "${s}": expected AET@host:port (DIMSE) or an http(s):// DICOMweb URL`, 400);
  return { kind: 'dimse', aeTitle: m[1]!.trim(), host: m[2]!, port: Number(m[3]) };
}

function studyFromMatch(m: Match): RemoteStudy {
  return {
    studyUid: matchString(m, 'StudyInstanceUID'),
    studyDate: matchString(m, 'StudyDate'),
    description: matchString(m, 'StudyDescription'),
    bodyPart: matchString(m, 'BodyPartExamined'),
    accession: matchString(m, 'AccessionNumber'),
    modalities: matchStrings(m, 'ModalitiesInStudy'),
  };
}

function seriesFromMatch(m: Match): RemoteSeries {
  const ori = matchStrings(m, 'ImageOrientationPatient').map(Number);
  return {
    uid: matchString(m, 'SeriesInstanceUID'),
    modality: matchString(m, 'Modality'),
    number: matchNumber(m, 'SeriesNumber'),
    description: matchString(m, 'SeriesDescription'),
    bodyPart: matchString(m, 'BodyPartExamined'),
    orientation: ori.length === 6 && ori.every(Number.isFinite) ? ori : null,
    imageType: matchStrings(m, 'ImageType').filter(Boolean),
    tr: matchNumber(m, 'RepetitionTime'),
    te: matchNumber(m, 'EchoTime'),
    ti: matchNumber(m, 'InversionTime'),
    scanOptions: matchStrings(m, 'ScanOptions').filter(Boolean),
    instances: matchNumber(m, 'NumberOfSeriesRelatedInstances'),
  };
}

/** How a DIMSE source is retrieved: C-MOVE to our own AE title, or C-GET on our own association. */
export type RetrieveMethod = 'move' | 'get';

/** A DIMSE PACS: C-FIND, then C-MOVE to our own AE title (dicom.aeTitle) or C-GET. */
export function dimseSource(ctx: ScpContext, addr: { aeTitle: string; host: string; port: number }, method: RetrieveMethod): BackfillSource {
  const config: Config = ctx.config;
  const dest: ScuDestination = { ...addr, callingAeTitle: config.dicom.aeTitle };
  const timeoutMs = config.backfill.timeoutSeconds * 1000;
  return {
    label: `${addr.aeTitle}@${addr.host}:${addr.port}`,
    async findStudies(from, to) {
      const r = await cFindStudies(dest, { dateFrom: from, dateTo: to }, timeoutMs);
      return { ...r, studies: r.matches.map(studyFromMatch).filter((s) => s.studyUid) };
    },
    async findSeries(studyUid) {
      const r = await cFindSeries(dest, studyUid, timeoutMs);
      return { ...r, series: r.matches.map(seriesFromMatch).filter((s) => s.uid) };
    },
    async retrieve(studyUid, seriesUids) {
      const r =
        method === 'get'
          ? await getSeries(dest, studyUid, seriesUids, ingestSink(ctx, addr.aeTitle), timeoutMs)
          : await moveSeries(dest, config.dicom.aeTitle, studyUid, seriesUids, timeoutMs);
      return { ok: r.ok, error: r.error, retryable: r.retryable, ms: r.ms, instances: r.series.reduce((a, s) => a + s.completed + s.warnings, 0) };
    },
  };
}

// ------------------------------------------------------------------ DICOMweb

/** DICOM JSON (PS3.18 F.2) tags we read, by keyword. */
const TAGS: Record<string, string> = {
  '0020000D': 'StudyInstanceUID',
  '00080020': 'StudyDate',
  '00081030': 'StudyDescription',
  '00180015': 'BodyPartExamined',
  '00080050': 'AccessionNumber',
  '00080061': 'ModalitiesInStudy',
  '0020000E': 'SeriesInstanceUID',
  '00080060': 'Modality',
  '00200011': 'SeriesNumber',
  '0008103E': 'SeriesDescription',
  '00200037': 'ImageOrientationPatient',
  '00080008': 'ImageType',
  '00180080': 'RepetitionTime',
  '00180081': 'EchoTime',
  '00180082': 'InversionTime',
  '00180022': 'ScanOptions',
  '00201209': 'NumberOfSeriesRelatedInstances',
};

/** A DICOM JSON object as a keyword map (only the tags above). */
export function dicomJsonToMatch(o: Record<string, { Value?: unknown[] }>): Match {
  const m: Match = {};
  for (const [tag, kw] of Object.entries(TAGS)) {
    const v = o[tag]?.Value;
    if (Array.isArray(v) && v.length) m[kw] = v.length === 1 ? v[0] : v;
  }
  return m;
}

interface GetAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function httpGet(url: string, headers: Record<string, string>, ca: Buffer | undefined, timeoutMs: number): Promise<GetAnswer> {
  const u = new URL(url);
  const lib = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(u, { method: 'GET', headers, ...(u.protocol === 'https:' && ca ? { ca } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
      });
      res.on('error', (e) => (clearTimeout(timer), reject(e)));
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
    req.on('error', (e) => (clearTimeout(timer), reject(e)));
    req.end();
  });
}

/** The parts of a multipart/related body (each part's content after its headers). */
export function multipartParts(body: Buffer, contentType: string): Buffer[] {
  const m = /boundary="?([^";]+)"?/i.exec(contentType);
  if (!m) throw new Error(`no boundary in Content-Type "${contentType}"`);
  const delim = Buffer.from(`--${m[1]}`);
  const parts: Buffer[] = [];
  let pos = body.indexOf(delim);
  while (pos >= 0) {
    let start = pos + delim.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const headerEnd = body.indexOf('\r\n\r\n', start);
    if (headerEnd < 0) break;
    start = headerEnd + 4;
    const next = body.indexOf(delim, start);
    if (next < 0) break;
    let end = next;
    if (body[end - 2] === 0x0d && body[end - 1] === 0x0a) end -= 2;
    parts.push(body.subarray(start, end));
    pos = next;
  }
  return parts;
}

/** A DICOMweb service: QIDO-RS to find, WADO-RS to retrieve; credentials from backfill.dicomweb when the URL matches. */
export function dicomwebSource(ctx: ScpContext, url: string): BackfillSource {
  const config = ctx.config;
  const known: StowDestination | undefined = config.backfill.dicomweb.find((d) => d.url === url);
  const auth = known ? authHeaders(known) : {};
  const timeoutMs = (known?.timeoutSeconds ?? config.backfill.timeoutSeconds) * 1000;
  const sourceAe = 'DICOMWEB';
  const get = async (path: string, accept: string): Promise<{ ok: true; answer: GetAnswer; ms: number } | { ok: false; error: string; retryable: boolean; ms: number }> => {
    const t0 = Date.now();
    const { ca, error } = readCaFile(known?.caFile);
    if (error) return { ok: false, error, retryable: true, ms: 0 };
    try {
      const answer = await httpGet(url + path, { accept, ...auth }, ca, timeoutMs);
      const ms = Date.now() - t0;
      if (answer.status === 204) return { ok: true, answer: { ...answer, body: Buffer.from('[]') }, ms };
      if (answer.status < 200 || answer.status >= 300) {
        const text = answer.body.toString('utf8').replace(/\s+/g, ' ').trim().slice(0, 200);
        return { ok: false, error: `GET ${url}${path.replace(/\?.*/, '')}: HTTP ${answer.status}${text ? ': ' + text : ''}`, retryable: isRetryableHttpStatus(answer.status), ms };
      }
      return { ok: true, answer, ms };
    } catch (e) {
      return { ok: false, error: `GET ${url}${path.replace(/\?.*/, '')}: ${describeNetworkError(e)}`, retryable: true, ms: Date.now() - t0 };
    }
  };
  const json = (a: GetAnswer): Record<string, { Value?: unknown[] }>[] => {
    const v = JSON.parse(a.body.toString('utf8') || '[]');
    if (!Array.isArray(v)) throw new Error('QIDO-RS answer is not a JSON array');
    return v;
  };
  return {
    label: url,
    async findStudies(from, to) {
      const q = new URLSearchParams({ StudyDate: `${from}-${to}`, ModalitiesInStudy: 'MR' });
      for (const t of ['00081030', '00180015', '00080050', '00080061']) q.append('includefield', t);
      const r = await get(`/studies?${q}`, 'application/dicom+json');
      if (!r.ok) return { ...r, studies: [] };
      try {
        const studies = json(r.answer).map((o) => studyFromMatch(dicomJsonToMatch(o)));
        return { ok: true, ms: r.ms, studies: studies.filter((s) => s.studyUid) };
      } catch (e) {
        return { ok: false, ms: r.ms, error: `QIDO-RS: ${errorMessage(e)}`, retryable: false, studies: [] };
      }
    },
    async findSeries(studyUid) {
      const q = new URLSearchParams();
      for (const t of ['00200037', '00080008', '00180080', '00180081', '00180082', '00180022', '00180015', '00201209', '0008103E', '00200011']) q.append('includefield', t);
      const r = await get(`/studies/${encodeURIComponent(studyUid)}/series?${q}`, 'application/dicom+json');
      if (!r.ok) return { ...r, series: [] };
      try {
        return { ok: true, ms: r.ms, series: json(r.answer).map((o) => seriesFromMatch(dicomJsonToMatch(o))).filter((s) => s.uid) };
      } catch (e) {
        return { ok: false, ms: r.ms, error: `QIDO-RS: ${errorMessage(e)}`, retryable: false, series: [] };
      }
    },
    async retrieve(studyUid, seriesUids) {
      const t0 = Date.now();
      let instances = 0;
      for (const uid of seriesUids) {
        const r = await get(`/studies/${encodeURIComponent(studyUid)}/series/${encodeURIComponent(uid)}`, 'multipart/related; type="application/dicom"');
        if (!r.ok) return { ...r, ms: Date.now() - t0, instances };
        let parts: Buffer[];
        try {
          parts = multipartParts(r.answer.body, String(r.answer.headers['content-type'] ?? ''));
        } catch (e) {
          return { ok: false, error: `WADO-RS: ${errorMessage(e)}`, retryable: true, ms: Date.now() - t0, instances };
        }
        for (const p of parts) {
          const s = await ingestPart10(ctx, p, sourceAe);
          if (!s.ok) return { ok: false, error: `WADO-RS instance not stored: ${s.reason ?? `status 0x${s.status.toString(16)}`}`, retryable: (s.status & 0xff00) === 0xa700, ms: Date.now() - t0, instances };
          instances++;
        }
      }
      return { ok: true, ms: Date.now() - t0, instances };
    },
  };
}

/** The source of a campaign; `method` applies to a DIMSE source (default: backfill.retrieve). */
export function openSource(ctx: ScpContext, source: string, method: RetrieveMethod = ctx.config.backfill.retrieve): BackfillSource {
  const p = parseSource(source);
  return p.kind === 'dimse' ? dimseSource(ctx, p, method) : dicomwebSource(ctx, p.url);
}
