/**
 * Query/retrieve service class user (dcmjs-dimse), Study Root: C-FIND at study and series level, C-MOVE of
 * series to an AE (our own listener: the instances arrive as C-STOREs and take the normal path).
 *
 * Every call resolves (never rejects) with `ok`, the DIMSE status, an `error` in words and whether trying again
 * later can help (`retryable`: network errors, time-outs, transient association rejections, out of resources),
 * plus the time the exchange took (`ms`, the PACS's answer time for back-off decisions).
 */
import dimse from 'dcmjs-dimse';
import { logger } from '../common/log.js';
import { errorMessage } from '../common/errors.js';
import { describeReject, runAssociation, type ScuDestination } from './scu.js';

dimse.log.setLevel('error');
const log = logger('dicom:qr');
const { Status } = dimse.constants;

export interface QrOutcome {
  ok: boolean;
  status?: number;
  error?: string;
  retryable?: boolean;
  ms: number;
}

/** One C-FIND match, naturalized (keyword -> value; multi-valued attributes as arrays). */
export type Match = Record<string, unknown>;

export interface FindOutcome extends QrOutcome {
  matches: Match[];
}

export interface MoveOutcome extends QrOutcome {
  /** Per requested series: the final sub-operation counts. */
  series: { seriesUid: string; status?: number; completed: number; failed: number; warnings: number; error?: string }[];
}

const hex = (n: number) => n.toString(16).toUpperCase().padStart(4, '0');
const isPending = (s: number) => s === Status.Pending || s === 0xff01;

/** Failure statuses where a later retry can help (out of resources, unable to process now). */
export function isRetryableQrStatus(status: number): boolean {
  return (status & 0xff00) === 0xa700 || (status & 0xf000) === 0xc000 || status === 0xfe00;
}

interface Resp {
  getStatus(): number;
  getErrorComment?(): string;
  hasDataset?(): boolean;
  getDataset?(): { getElements(): Match } | undefined;
  getCompleted?(): number;
  getFailures?(): number;
  getWarnings?(): number;
}

/** Run requests over one association; `failure` holds why it ended badly (rejected, network, time-out). */
async function exchange(dest: ScuDestination, requests: InstanceType<typeof dimse.requests.Request>[], timeoutMs: number): Promise<{ failure?: { error: string; retryable: boolean }; ms: number }> {
  const client = new dimse.Client();
  for (const r of requests) client.addRequest(r);
  const t0 = Date.now();
  let failure: { error: string; retryable: boolean } | undefined;
  const where = `${dest.aeTitle}@${dest.host}:${dest.port}`;
  client.on('connected', () => {
    const socket = (client as unknown as { network?: { socket?: { setNoDelay?: (v: boolean) => void } } }).network?.socket;
    socket?.setNoDelay?.(true);
  });
  client.on('associationRejected', (r: { result?: number; source?: number; reason?: number }) => {
    failure = { error: `association rejected by ${where}: ${describeReject(r)}`, retryable: r?.result !== 1 };
  });
  await runAssociation(client, dest, timeoutMs, {
    onTimeout: () => (failure ??= { error: `timed out after ${timeoutMs} ms talking to ${where}`, retryable: true }),
    onNetworkError: (e) => (failure ??= { error: `network error talking to ${where}: ${errorMessage(e)}`, retryable: true }),
    onStartError: (e) => (failure = { error: `cannot start association with ${where}: ${errorMessage(e)}`, retryable: true }),
  });
  return { failure, ms: Date.now() - t0 };
}

async function find(dest: ScuDestination, level: 'STUDY' | 'SERIES', keys: Match, timeoutMs: number): Promise<FindOutcome> {
  const req = level === 'STUDY' ? dimse.requests.CFindRequest.createStudyFindRequest({}) : dimse.requests.CFindRequest.createSeriesFindRequest({});
  // Only the keys we need (the library's default study keys include the patient's name and ID).
  req.setDataset(new dimse.Dataset({ ...keys, QueryRetrieveLevel: level }));
  const matches: Match[] = [];
  let final: Resp | undefined;
  req.on('response', (r: Resp) => {
    const s = r.getStatus();
    if (isPending(s)) {
      const ds = r.hasDataset?.() ? r.getDataset?.() : undefined;
      if (ds) matches.push(ds.getElements());
    } else final = r;
  });
  const { failure, ms } = await exchange(dest, [req], timeoutMs);
  if (final && final.getStatus() === Status.Success) return { ok: true, status: 0, matches, ms };
  if (final) {
    const s = final.getStatus();
    const comment = final.getErrorComment?.();
    return { ok: false, status: s, matches, ms, retryable: isRetryableQrStatus(s), error: `C-FIND (${level}) failed with status 0x${hex(s)}${comment ? `: ${comment}` : ''}` };
  }
  return { ok: false, matches, ms, error: failure?.error ?? `C-FIND (${level}): no final answer`, retryable: failure?.retryable ?? true };
}

/** Study-level C-FIND: studies with an MR series in a date range (YYYYMMDD), with the attributes we judge. */
export function findStudies(dest: ScuDestination, q: { dateFrom: string; dateTo: string; modality?: string }, timeoutMs = 60_000): Promise<FindOutcome> {
  return find(
    dest,
    'STUDY',
    {
      StudyInstanceUID: '',
      StudyDate: `${q.dateFrom}-${q.dateTo}`,
      ModalitiesInStudy: q.modality ?? 'MR',
      StudyDescription: '',
      AccessionNumber: '',
      BodyPartExamined: '',
      NumberOfStudyRelatedInstances: '',
    },
    timeoutMs,
  );
}

/** Series-level C-FIND of one study: what the series-selection rules can judge from the PACS's answer. */
export function findSeries(dest: ScuDestination, studyUid: string, timeoutMs = 60_000): Promise<FindOutcome> {
  return find(
    dest,
    'SERIES',
    {
      StudyInstanceUID: studyUid,
      SeriesInstanceUID: '',
      Modality: '',
      SeriesNumber: '',
      SeriesDescription: '',
      BodyPartExamined: '',
      ImageOrientationPatient: '',
      ImageType: '',
      RepetitionTime: '',
      EchoTime: '',
      InversionTime: '',
      ScanOptions: '',
      NumberOfSeriesRelatedInstances: '',
    },
    timeoutMs,
  );
}

/** C-MOVE these series of a study to `moveAe` over one association. */
export async function moveSeries(dest: ScuDestination, moveAe: string, studyUid: string, seriesUids: string[], timeoutMs = 300_000): Promise<MoveOutcome> {
  const out: MoveOutcome['series'] = seriesUids.map((seriesUid) => ({ seriesUid, completed: 0, failed: 0, warnings: 0 }));
  const reqs = seriesUids.map((uid, k) => {
    const req = dimse.requests.CMoveRequest.createSeriesMoveRequest(moveAe, studyUid, uid);
    req.on('response', (r: Resp) => {
      const s = r.getStatus();
      if (isPending(s)) return;
      const item = out[k]!;
      item.status = s;
      item.completed = r.getCompleted?.() ?? 0;
      item.failed = r.getFailures?.() ?? 0;
      item.warnings = r.getWarnings?.() ?? 0;
      if (s !== Status.Success) item.error = `C-MOVE failed with status 0x${hex(s)}${r.getErrorComment?.() ? `: ${r.getErrorComment!()}` : ''}`;
    });
    return req;
  });
  const { failure, ms } = await exchange(dest, reqs, timeoutMs);
  const bad = out.find((s) => s.status === undefined || (s.status !== Status.Success && (s.status & 0xf000) !== 0xb000) || s.failed > 0);
  if (!bad) {
    log.debug('C-MOVE finished', { calledAe: dest.aeTitle, series: seriesUids.length, completed: out.reduce((a, s) => a + s.completed, 0), ms });
    return { ok: true, status: 0, series: out, ms };
  }
  if (bad.status === undefined) return { ok: false, series: out, ms, error: failure?.error ?? 'C-MOVE: no final answer', retryable: failure?.retryable ?? true };
  // 0xA801: the PACS does not know our AE title as a move destination (configuration: permanent).
  const retryable = bad.status === 0xa801 ? false : isRetryableQrStatus(bad.status) || (bad.status & 0xf000) === 0xb000 || bad.failed > 0;
  const error =
    bad.status === 0xa801
      ? `C-MOVE refused (0xA801): ${dest.aeTitle} does not know the move destination ${moveAe} (declare this service as a DICOM node in the PACS)`
      : (bad.error ?? `C-MOVE: ${bad.failed} sub-operation(s) failed (status 0x${hex(bad.status)})`);
  return { ok: false, status: bad.status, series: out, ms, error, retryable };
}

/** A naturalized attribute as a string (first value of a multi-valued one). */
export function matchString(m: Match, key: string): string {
  const v = m[key];
  if (v === undefined || v === null) return '';
  if (Array.isArray(v)) return v.length ? String(v[0] ?? '') : '';
  return String(v);
}

/** A naturalized attribute as strings (all values; a backslash-separated string split). */
export function matchStrings(m: Match, key: string): string[] {
  const v = m[key];
  if (v === undefined || v === null || v === '') return [];
  if (Array.isArray(v)) return v.map((x) => String(x ?? ''));
  return String(v).split('\\');
}

/** A naturalized numeric attribute, or null when absent/empty/not a number. */
export function matchNumber(m: Match, key: string): number | null {
  const s = matchString(m, key).trim();
  if (!s) return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : null;
}
